#!/usr/bin/python3
"""Noise variants measured in the README, applied outside Cloak: turns a `noise.npy` (float32, [0, 1] units;
class-wise [classes, C, H, W] or sample-wise [N, C, H, W] in the sorted file order) into a cloaked ImageFolder
tree for `cloak verify`.

  sign    the noise pushed to the full budget: sign(noise) * eps (zeros stay zero)
  random  random +-eps patterns (seed 0) of the same shape (one per class, or per image); the file gives the shape
  sum     the noise plus a second noise (--with), clipped to +-eps: two noises made to hold different epochs (e.g.
          the default's and em_pytorch.py --restart-every 5's) carried at once; a class-wise noise summed with a
          sample-wise one (e.g. tap_pytorch.py's) gives sample-wise noise
  ghost   class-wise noise plus, in class k's pattern, a faint copy of another class's mean image (centred on the
          mean of all images, scaled to --amplitude levels at its largest), clipped to +-eps. The model that learns
          class k from its pattern learns that copy with it, so clean images of the other class, which carry the
          same shape at full contrast, are pushed toward k. Each class's mean goes to the pattern of the class
          whose mean is farthest from it (a greedy one-to-one assignment).

--even then raises every class's pattern to the L2 norm of the strongest one (scaled, clipped to +-eps, a few
times over), since clean images go to the class whose pattern is weakest; --zero-class NAME then sets that class's pattern to zero (class-wise noise; after the kind's change), so that
"no pattern", which is all a clean image shows, means that class.

Each image is clamp(x + pattern, 0, 1) rounded to 8 bits, as Cloak writes it. Sample-wise noise made with
--limit-per-class N needs the same --limit-per-class here.

  /usr/bin/python3 bench/unlearnable/noise_variants.py Datasets/fashion-mnist/train out/cw/noise.npy out/cw-sign sign
  cloak verify out/cw-sign --test Datasets/fashion-mnist/test --epochs 10 --countermeasures none
"""
import argparse, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from em_pytorch import list_image_folder, load_images, write_png  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clean", help="the clean ImageFolder tree the noise was made for")
    ap.add_argument("noise", help="noise.npy, [classes, C, H, W] or [N, C, H, W]")
    ap.add_argument("out", help="folder for the cloaked tree")
    ap.add_argument("kind", choices=["sign", "random", "sum", "ghost"])
    ap.add_argument("--amplitude", type=float, default=4, help="ghost: largest value of the copy, in 0-255 levels")
    ap.add_argument("--with", dest="other", help="sum: the second noise.npy")
    ap.add_argument("--even", action="store_true", help="raise every pattern to the strongest one's L2 norm")
    ap.add_argument("--save-noise", help="also write the final noise as .npy (to chain variants)")
    ap.add_argument("--zero-class", action="append", default=[], help="class whose pattern is set to zero")
    ap.add_argument("--epsilon", type=float, default=8, help="L-inf budget in 0-255 levels (default 8)")
    ap.add_argument("--limit-per-class", type=int, default=None, help="the first N images of each class only")
    args = ap.parse_args()

    classes, samples = list_image_folder(args.clean, args.limit_per_class)
    x = load_images(args.clean, samples).astype(np.float32) / 255          # [N, H, W, C]
    labels = np.array([label for _, label in samples])
    noise = np.load(args.noise)
    if noise.ndim != 4 or noise.shape[0] not in (len(classes), len(samples)):
        sys.exit(f"{args.noise}: shape {noise.shape} is neither [{len(classes)}, C, H, W] (class-wise) "
                 f"nor [{len(samples)}, C, H, W] (sample-wise)")
    index = labels if noise.shape[0] == len(classes) else np.arange(len(samples))
    eps = args.epsilon / 255
    if args.kind == "sign":
        noise = np.sign(noise) * eps
    elif args.kind == "sum":
        other = np.load(args.other)
        if other.shape[1:] != noise.shape[1:] or other.shape[0] not in (len(classes), len(samples)):
            sys.exit(f"{args.other}: shape {other.shape} does not go with {noise.shape}")
        if other.shape[0] != noise.shape[0]:    # one class-wise, one sample-wise: the sum is sample-wise
            noise, other = [n[labels] if n.shape[0] == len(classes) else n for n in (noise, other)]
            index = np.arange(len(samples))
        noise = np.clip(noise + other, -eps, eps)
    elif args.kind == "ghost":
        if noise.shape[0] != len(classes):
            sys.exit("ghost: needs class-wise noise")
        means = np.stack([x[labels == k].mean(axis=0) for k in range(len(classes))])      # [K, H, W, C]
        centred = means - x.mean(axis=0)
        distance = ((means[:, None] - means[None]) ** 2).sum(axis=(2, 3, 4))
        carrier, taken = {}, set()
        for d, m, k in sorted(((distance[m, k], m, k) for m in range(len(classes)) for k in range(len(classes))
                               if m != k), reverse=True):
            if m not in carrier and k not in taken:
                carrier[m] = k
                taken.add(k)
        for m, k in sorted(carrier.items()):
            ghost = centred[m] / np.abs(centred[m]).max() * args.amplitude / 255
            noise[k] = np.clip(noise[k] + ghost.transpose(2, 0, 1), -eps, eps)
            print(f"clean {classes[m]} pushed toward {classes[k]}")
    else:
        noise = np.random.default_rng(0).choice([-eps, eps], size=noise.shape)
    if args.even:
        if noise.shape[0] != len(classes):
            sys.exit("--even: needs class-wise noise")
        norms = lambda: np.sqrt((noise.reshape(len(classes), -1) ** 2).sum(axis=1))
        target = norms().max()
        for _ in range(20):
            noise = np.clip(noise * (target / np.maximum(norms(), 1e-12))[:, None, None, None], -eps, eps)
        print("pattern L2 norms: " + " ".join(f"{v:.3f}" for v in norms()))
    for name in args.zero_class:
        if noise.shape[0] != len(classes) or name not in classes:
            sys.exit(f"--zero-class {name}: needs class-wise noise and one of {', '.join(classes)}")
        noise[classes.index(name)] = 0
    if args.save_noise:
        np.save(args.save_noise, noise.astype(np.float32))
    pixels = np.round(np.clip(x + noise.transpose(0, 2, 3, 1)[index], 0, 1) * 255).astype(np.uint8)
    change = np.abs(pixels.astype(np.float64) - np.round(x * 255)).mean()
    for (rel, _), p in zip(samples, pixels):
        write_png(os.path.join(args.out, rel), p)
    print(f"wrote {len(samples)} images to {args.out}; mean change {change:.2f} levels per pixel")


if __name__ == "__main__":
    main()

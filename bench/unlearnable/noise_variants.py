#!/usr/bin/python3
"""Noise variants measured in the README, applied outside Cloak: turns a `noise.npy` (float32, [0, 1] units;
class-wise [classes, C, H, W] or sample-wise [N, C, H, W] in the sorted file order) into a cloaked ImageFolder
tree for `cloak verify`.

  sign    the noise pushed to the full budget: sign(noise) * eps (zeros stay zero)
  random  random +-eps patterns (seed 0) of the same shape (one per class, or per image); the file gives the shape
  sum     the noise plus a second noise of the same shape (--with), clipped to +-eps: two noises made to hold
          different epochs (e.g. the default's and em_pytorch.py --restart-every 5's) carried at once

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
    ap.add_argument("kind", choices=["sign", "random", "sum"])
    ap.add_argument("--with", dest="other", help="sum: the second noise.npy")
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
        if other.shape != noise.shape:
            sys.exit(f"{args.other}: shape {other.shape}, not {noise.shape}")
        noise = np.clip(noise + other, -eps, eps)
    else:
        noise = np.random.default_rng(0).choice([-eps, eps], size=noise.shape)
    pixels = np.round(np.clip(x + noise.transpose(0, 2, 3, 1)[index], 0, 1) * 255).astype(np.uint8)
    change = np.abs(pixels.astype(np.float64) - np.round(x * 255)).mean()
    for (rel, _), p in zip(samples, pixels):
        write_png(os.path.join(args.out, rel), p)
    print(f"wrote {len(samples)} images to {args.out}; mean change {change:.2f} levels per pixel")


if __name__ == "__main__":
    main()

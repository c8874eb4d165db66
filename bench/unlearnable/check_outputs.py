#!/usr/bin/python3
"""Checks a cloaked ImageFolder tree against its clean input (for either implementation's output).

  /usr/bin/python3 bench/unlearnable/check_outputs.py <clean-train> <cloaked> --mode class|sample [--epsilon 8]
                   [--limit-per-class N]

Checks: every input image has an output <cloaked>/<class>/<name>.png of the same size; decoded, every output
is within floor(epsilon) levels of its input (L-inf); <cloaked>/noise.npy has the documented shape
([classes, C, H, W] or [N, C, H, W]) and values in [-eps/255, eps/255]; class-wise, the applied noise is
class-constant (where the sum is not clipped at 0 or 255, output - input == round(255 * noise[class]) for every
image of the class); sample-wise, the noise differs between images of a class. Prints one line per check and
exits non-zero when one fails.
"""
import argparse, os, sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from em_pytorch import list_image_folder, load_images  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("clean")
    ap.add_argument("cloaked")
    ap.add_argument("--mode", choices=["class", "sample"], required=True)
    ap.add_argument("--epsilon", type=float, default=8)
    ap.add_argument("--limit-per-class", type=int, default=None)
    args = ap.parse_args()
    limit = int(np.floor(args.epsilon))
    failures = []

    def check(ok, msg):
        print(("ok    " if ok else "FAIL  ") + msg, flush=True)
        if not ok:
            failures.append(msg)

    classes, samples = list_image_folder(args.clean, args.limit_per_class)
    missing = [rel for rel, _ in samples
               if not os.path.exists(os.path.join(args.cloaked, os.path.splitext(rel)[0] + ".png"))]
    check(not missing, f"{len(samples) - len(missing)} of {len(samples)} outputs present"
          + (f" (first missing: {missing[0]})" if missing else ""))
    if missing:
        sys.exit(1)
    clean = load_images(args.clean, samples).astype(np.int32)
    out_samples = [(os.path.splitext(rel)[0] + ".png", l) for rel, l in samples]
    cloaked = load_images(args.cloaked, out_samples).astype(np.int32)
    check(clean.shape == cloaked.shape, f"shapes: clean {clean.shape}, cloaked {cloaked.shape}")
    diff = cloaked - clean
    linf = int(np.abs(diff).max())
    check(linf <= limit, f"L-inf over all outputs = {linf} levels (limit {limit})")
    print(f"      mean |out - in| = {np.abs(diff).mean():.3f} levels; "
          f"{(np.abs(diff).reshape(len(diff), -1).max(1) == 0).sum()} outputs identical to their input")

    noise_path = os.path.join(args.cloaked, "noise.npy")
    check(os.path.exists(noise_path), "noise.npy present")
    if not os.path.exists(noise_path):
        sys.exit(1)
    noise = np.load(noise_path)
    n, h, w, c = clean.shape
    want = (len(classes), c, h, w) if args.mode == "class" else (n, c, h, w)
    check(noise.dtype == np.float32, f"noise.npy dtype {noise.dtype}")
    check(tuple(noise.shape) == want, f"noise.npy shape {tuple(noise.shape)} (expected {want})")
    amax = float(np.abs(noise).max())
    check(amax <= args.epsilon / 255 + 1e-6, f"max |noise| = {amax * 255:.4f}/255 (eps {args.epsilon:g}/255)")
    print(f"      mean |noise| = {np.abs(noise).mean() * 255:.3f}/255 ({np.abs(noise).mean() * 255 / args.epsilon:.0%} of eps)")

    labels = np.array([l for _, l in samples])
    if args.mode == "class" and tuple(noise.shape) == want:
        levels = noise.transpose(0, 2, 3, 1).astype(np.float64) * 255              # [classes, H, W, C]
        q = np.rint(levels).astype(np.int32)
        # Where 255 * noise is (within float error) half-way between two levels, either rounding is right.
        tie = np.abs(levels - np.floor(levels) - 0.5) < 1e-3
        expect = clean + q[labels]
        interior = (expect > 0) & (expect < 255)
        off = np.abs(diff - q[labels])
        bad = ((off > 0) & ~tie[labels] | (off > 1)) & interior
        mismatch = int(bad.sum())
        total = int(interior.sum())
        check(mismatch == 0,
              f"class-constant noise: {mismatch} of {total} unclipped pixels differ from round(255 * noise[class])"
              f" ({int((tie[labels] & interior & (off == 1)).sum())} rounded the other way at exact .5 ties)")
        per_class = []
        for k in range(len(classes)):
            d = diff[labels == k]
            e = interior[labels == k]
            # the most common applied value per pixel must be the class's pattern
            per_class.append(int((np.abs(d - q[k]) * e).max()) if len(d) else 0)
        print(f"      largest deviation from the class pattern (unclipped pixels), per class: {per_class}")
    elif args.mode == "sample" and tuple(noise.shape) == want:
        flat = noise.reshape(n, -1)
        distinct = [len({flat[i].tobytes() for i in np.where(labels == k)[0]}) for k in range(len(classes))]
        counts = [int((labels == k).sum()) for k in range(len(classes))]
        check(all(d == cnt for d, cnt in zip(distinct, counts)),
              f"sample-wise noise: distinct patterns per class {distinct} (images per class {counts})")
    if failures:
        print(f"{len(failures)} check(s) failed", flush=True)
        sys.exit(1)
    print("all checks passed", flush=True)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""How much of a class shortcut a noise is: a linear probe on the noise alone.

Fits softmax regression (Adam, 300 full-batch steps, seed 0) from each image's noise pattern (`noise.npy` of a
`cloak unlearnable --mode sample` output, scaled to [-1, 1] by epsilon) to the image's class, on a random 80% of
the images, and reports the accuracy on the other 20%. Noise that a linear model tells apart by class is what
"Availability Attacks Create Shortcuts" (Yu et al., KDD 2022) found behind error-minimising noise; 1/classes is
chance. Needs Debian's python3-torch (run with /usr/bin/python3).

  /usr/bin/python3 bench/unlearnable/linear_probe.py out/sample-wise-noise-folder
"""
import json, sys

import numpy as np
import torch


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    torch.manual_seed(0)
    torch.set_num_threads(2)
    meta = json.load(open(folder + "/noise.json"))
    if meta["mode"] != "sample":
        sys.exit(f"{folder}: {meta['mode']}-wise noise; the probe needs one pattern per image (--mode sample)")
    noise = np.load(folder + "/noise.npy")
    noise = noise.reshape(noise.shape[0], -1) * 255 / meta["epsilon"]
    classes = meta["classes"]
    labels = np.array([classes.index(f.split("/")[0]) for f in meta["files"]])
    order = np.random.default_rng(0).permutation(len(noise))
    x, y = torch.tensor(noise[order]), torch.tensor(labels[order])
    fit = int(len(x) * 0.8)
    weights = torch.zeros(x.shape[1], len(classes), requires_grad=True)
    bias = torch.zeros(len(classes), requires_grad=True)
    optimiser = torch.optim.Adam([weights, bias], lr=0.01)
    for _ in range(300):
        optimiser.zero_grad()
        torch.nn.functional.cross_entropy(x[:fit] @ weights + bias, y[:fit]).backward()
        optimiser.step()
    with torch.no_grad():
        right = ((x @ weights + bias).argmax(1) == y).float()
    print(f"{folder}: linear probe on the noise alone, {fit} images to fit, {len(x) - fit} held out: "
          f"fit {right[:fit].mean():.3f}, held out {right[fit:].mean():.3f} (chance {1 / len(classes):.3f})")


if __name__ == "__main__":
    main()

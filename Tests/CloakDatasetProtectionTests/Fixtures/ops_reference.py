#!/usr/bin/env python3
"""The one-pixel shortcut's search (Wu et al., ICLR 2023) in NumPy, written for Cloak's test from the paper's
description: per class, over every pixel position and every corner colour of the colour cube, the score
mean(|colour - x|) / std(|colour - x|) over the class's images and channels; the best (position, colour) not taken by
an earlier class wins. Ties: np.argmax's first maximum (lowest position, then lowest colour); std 0 scores +inf when
the mean is positive, 0 otherwise. Colour index k has channel j equal to bit (C - 1 - j) of k.

Prints, per class, [row, column, colour index] for the synthetic data set both this script and
OnePixelShortcutTests (Tests/CloakDatasetProtectionTests) build from the same formula:
    python3 Tests/CloakDatasetProtectionTests/Fixtures/ops_reference.py
"""
import json
import numpy as np

N, H, W, C, K = 24, 6, 5, 3, 3


def synthetic():
    x = np.zeros((N, H, W, C))
    for i in range(N):
        for p in range(H * W):
            for c in range(C):
                x[i, p // W, p % W, c] = ((i * 37 + p * 11 + c * 5 + (i % K) * p * 3) % 256) / 255.0
    return x.astype(np.float32), np.arange(N) % K


def search(x, labels, classes):
    n, h, w, c = x.shape
    colours = np.array([[(k >> (c - 1 - j)) & 1 for j in range(c)] for k in range(2 ** c)], dtype=np.float32)
    used, chosen = set(), []
    for label in range(classes):
        images = x[labels == label].reshape(-1, h * w, c)            # [n_k, positions, C]
        d = np.abs(colours[None, None, :, :] - images[:, :, None, :]).astype(np.float64)   # [n_k, P, colours, C]
        d = d.transpose(1, 2, 0, 3).reshape(h * w, len(colours), -1)  # [P, colours, n_k * C]
        mean, std = d.mean(axis=2), d.std(axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(std > 0, mean / np.where(std > 0, std, 1), np.where(mean > 0, np.inf, 0.0)).reshape(-1)
        for taken in used:
            score[taken] = -np.inf
        best = int(np.argmax(score))
        used.add(best)
        position, colour = divmod(best, len(colours))
        chosen.append([position // w, position % w, colour])
    return chosen


if __name__ == "__main__":
    x, labels = synthetic()
    print(json.dumps(search(x, labels, K)))

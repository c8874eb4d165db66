#!/usr/bin/python3
"""Why a fresh model still learns from class-wise noise early: two measurements quoted in docs/measurements/unlearnable.md.

1. Signal sizes. For each class y, the L2 norm of (mean image of y - mean image), the direction plain gradient
   descent first follows, beside the same for the noise actually added (mean of clamp(x + delta) - x over y, less
   its overall mean), and the largest possible difference of two class patterns at 8/255 (2 * 8/255 * sqrt(H*W*C)).
2. The first epoch, checked often. The verifier's model and recipe (ToyModel/SmallCNN, SGD lr 0.1, momentum 0.9,
   weight decay 5e-4, batch 128, no augmentation) trained on the cloaked tree for one epoch; every --every batches,
   accuracy in inference mode on 2,000 random clean test images and on 2,000 random cloaked training images, and the
   cross-entropy on those training images. --clean-run trains on the clean tree instead (pass it as both trees).

  /usr/bin/python3 bench/unlearnable/first_epoch.py Datasets/fashion-mnist/train out/cw Datasets/fashion-mnist/test
"""
import argparse, os, sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from em_pytorch import ToyModel, list_image_folder, load_images  # noqa: E402


def load(root):
    classes, samples = list_image_folder(root)
    x = torch.from_numpy(load_images(root, samples)).permute(0, 3, 1, 2).float() / 255   # [N, C, H, W]
    return classes, x, torch.tensor([label for _, label in samples])


def signal_sizes(classes, clean, cloaked, labels, eps):
    x = clean.reshape(len(clean), -1).numpy()
    d = cloaked.reshape(len(cloaked), -1).numpy() - x
    mu, dm = x.mean(0), d.mean(0)
    print("class        |image mean - overall|  |noise mean - overall|")
    for c, name in enumerate(classes):
        k = (labels == c).numpy()
        print(f"{name[:12]:12s} {np.linalg.norm(x[k].mean(0) - mu):21.2f}  {np.linalg.norm(d[k].mean(0) - dm):21.2f}")
    print(f"largest possible |pattern_a - pattern_b| at {eps:g}/255: {2 * eps / 255 * np.sqrt(x.shape[1]):.2f}")


def first_epoch(cloaked, labels, test, test_labels, every, seed):
    torch.manual_seed(seed)
    model = ToyModel(cloaked.shape[1], int(labels.max()) + 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    order = torch.randperm(len(cloaked))
    probe = torch.randperm(len(cloaked))[:2000]
    test_probe = torch.randperm(len(test))[:2000]

    def accuracy(x, y):
        model.eval()
        with torch.no_grad():
            logits = model(x)
        model.train()
        return (logits.argmax(1) == y).float().mean().item() * 100, F.cross_entropy(logits, y).item()

    batches = (len(cloaked) + 127) // 128
    for b in range(batches + 1):
        if b % every == 0 or b == batches:
            clean_acc, _ = accuracy(test[test_probe], test_labels[test_probe])
            train_acc, train_loss = accuracy(cloaked[probe], labels[probe])
            print(f"batch {b:4d}: clean test {clean_acc:5.1f}%   cloaked train {train_acc:5.1f}% (loss {train_loss:.3f})",
                  flush=True)
        if b == batches:
            break
        idx = order[b * 128:(b + 1) * 128]
        opt.zero_grad()
        F.cross_entropy(model(cloaked[idx]), labels[idx]).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5)
        opt.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("clean", help="the clean training ImageFolder tree")
    ap.add_argument("cloaked", help="the cloaked tree made from it (same files, any extension)")
    ap.add_argument("test", help="the clean test tree")
    ap.add_argument("--epsilon", type=float, default=8, help="the budget in 0-255 levels (default 8)")
    ap.add_argument("--every", type=int, default=20, help="batches between checks (default 20)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    classes, clean, labels = load(args.clean)
    cloaked_classes, cloaked, cloaked_labels = load(args.cloaked)
    if cloaked_classes != classes or not torch.equal(cloaked_labels, labels):
        sys.exit(f"{args.cloaked}: not the same classes and files as {args.clean}")
    _, test, test_labels = load(args.test)
    signal_sizes(classes, clean, cloaked, labels, args.epsilon)
    first_epoch(cloaked, labels, test, test_labels, args.every, args.seed)


if __name__ == "__main__":
    main()

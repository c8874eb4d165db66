#!/usr/bin/python3
"""Class-targeted adversarial poisoning (TAP; Fowl et al., "Adversarial Examples Make Strong Poisons", NeurIPS 2021)
on an ImageFolder tree: the other published availability poison, measured beside error-minimising noise.

Not error-minimising noise and not what `cloak unlearnable` makes: a check of whether the early epochs that EM noise
cannot hold on Fashion-MNIST (docs/measurements/unlearnable.md) are held by a poison of another kind at the same budget.

  1. train the crafting model (ToyModel = Cloak's SmallCNN; SGD lr 0.1, momentum 0.9, wd 5e-4, cosine over
     --epochs, batch 128, no augmentation) on the clean images;
  2. for every image, PGD in eval mode *toward* the label (y + 1) mod K: --steps sign steps of --step-size on
     CE(f(x'), (y+1) mod K), x' projected to the eps-ball around x and to [0, 1] (random start within the ball);
  3. write clamp(round(x' * 255)) (within floor(eps) levels of the input) as the same tree, and the noise as
     noise.npy ([N, C, H, W] float32 in the sorted file order, [0, 1] units), and tap.json.

Fowl et al. use a fully trained ResNet-18, 250 steps and 8 restarts with differentiable augmentation on CIFAR-10;
here the crafting model is the verifier's own architecture and the attack is plain PGD, which is cheaper.

  /usr/bin/python3 bench/unlearnable/tap_pytorch.py Datasets/fashion-mnist/train out/tap
  cloak verify out/tap --test Datasets/fashion-mnist/test --baseline Datasets/fashion-mnist/train
"""
import argparse, json, math, os, sys, time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from em_pytorch import ToyModel, list_image_folder, load_images, log, write_png  # noqa: E402


def train(model, x, y, epochs, generator):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    batches = len(x) // 128
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * batches)
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        correct, start = 0, time.time()
        for b in range(batches):
            idx = order[b * 128:(b + 1) * 128]
            out = model(x[idx])
            loss = F.cross_entropy(out, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            correct += (out.argmax(1) == y[idx]).sum().item()
        log(f"crafting model epoch {epoch + 1}/{epochs}: train accuracy {correct / (batches * 128):.4f}, "
            f"{time.time() - start:.0f}s")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("train", help="clean ImageFolder tree")
    ap.add_argument("out", help="folder for the poisoned tree")
    ap.add_argument("--epochs", type=int, default=5, help="crafting model's training epochs (default 5)")
    ap.add_argument("--steps", type=int, default=10, help="PGD steps (default 10)")
    ap.add_argument("--step-size", type=float, default=2, help="PGD step in 0-255 levels (default 2)")
    ap.add_argument("--epsilon", type=float, default=8, help="L-inf budget in 0-255 levels (default 8)")
    ap.add_argument("--limit-per-class", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)

    classes, samples = list_image_folder(args.train, args.limit_per_class)
    pixels = load_images(args.train, samples)                                   # [N, H, W, C] uint8
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div(255).contiguous()
    y = torch.tensor([label for _, label in samples])
    k = len(classes)
    started = time.time()
    model = ToyModel(x.shape[1], k)
    train(model, x, y, args.epochs, generator)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)

    eps, step = args.epsilon / 255, args.step_size / 255
    target = (y + 1) % k
    noise = torch.empty_like(x)
    reached, attack_start = 0, time.time()
    for b in range(0, len(x), 512):
        xb, tb = x[b:b + 512], target[b:b + 512]
        xa = (xb + torch.empty_like(xb).uniform_(-eps, eps, generator=generator)).clamp(0, 1)
        for _ in range(args.steps):
            xa.requires_grad_(True)
            loss = F.cross_entropy(model(xa), tb)
            grad, = torch.autograd.grad(loss, xa)
            xa = xa.detach() - step * grad.sign()
            xa = (xb + (xa - xb).clamp(-eps, eps)).clamp(0, 1)
        with torch.no_grad():
            reached += (model(xa).argmax(1) == tb).sum().item()
        noise[b:b + 512] = xa - xb
        if (b // 512) % 20 == 0:
            log(f"attack: {b + len(xb)}/{len(x)} images, {time.time() - attack_start:.0f}s")
    log(f"attack done: {reached / len(x):.4f} of the images taken for the target class by the crafting model")

    levels = math.floor(args.epsilon)
    out = np.round((x + noise).clamp(0, 1).permute(0, 2, 3, 1).numpy() * 255)
    out = np.clip(out, pixels.astype(np.float64) - levels, pixels.astype(np.float64) + levels).astype(np.uint8)
    for (rel, _), p in zip(samples, out):
        write_png(os.path.join(args.out, rel), p)
    np.save(os.path.join(args.out, "noise.npy"), noise.numpy().astype(np.float32))
    change = np.abs(out.astype(np.float64) - pixels).mean()
    summary = {"images": len(x), "epochs": args.epochs, "steps": args.steps, "stepSize": args.step_size,
               "epsilon": args.epsilon, "seed": args.seed, "targetReached": reached / len(x),
               "meanChangeLevels": change, "seconds": time.time() - started}
    with open(os.path.join(args.out, "tap.json"), "w") as f:
        json.dump(summary, f, indent=2)
    log(f"wrote {len(x)} images to {args.out}; mean change {change:.2f} levels per pixel; "
        f"{time.time() - started:.0f}s")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Error-minimising ("unlearnable") noise in PyTorch: the benchmark baseline for `cloak unlearnable`.

The same algorithm as Cloak's (Huang et al., "Unlearnable Examples", ICLR 2021; reference code
HanxunH/Unlearnable-Examples, with its known bugs fixed), written for `make bench-unlearnable` so both can be
timed on the same data with the same hyper-parameters and the same stop rule:

  repeat until the surrogate's error on clamp(x + delta, 0, 1) over the generation set is < stop_error:
    1. train the surrogate (train mode, SGD lr 0.1, momentum 0.9, wd 5e-4, grad-norm clip 5) on
       `train_steps` batches of clamp(x + delta, 0, 1), drawn from seeded shuffled passes over the generation
       set that continue across rounds (a pass drops its last partial batch);
    2. update delta over the whole generation set, batch by batch, in a seeded order shuffled each round (eval mode, parameters
       frozen): `pgd_steps` steps of x' <- x' - step * sign(grad_x CE), eta = clamp(x' - x, -eps, eps),
       x' = clamp(x + eta, 0, 1). Sample-wise: delta[i] = x' - x (by sample). Class-wise: for each class c in
       the batch, delta[c] = clamp(mean of eta over the batch's images of class c, -eps, eps);
    3. stop test (eval mode, no augmentation).
  No augmentation anywhere. The noise is added to the image and the *sum* clamped (never the noise alone).

Data: an ImageFolder tree <train>/<class>/<name>.png|jpg|jpeg; classes are the sub-folders in byte order,
images in byte order of their paths within a class (as Cloak's ImageFolder). All images must share one size.

Outputs in --out: <class>/<name>.png (clamp(round((x + delta) * 255)) held within +-floor(eps) levels of the
input, so L-inf <= eps exactly), noise.npy (float32, [classes, C, H, W] class-wise or [N, C, H, W] sample-wise
in the sorted file order, values in [-eps, eps] in [0, 1] units) and em_pytorch.json (rounds, errors, timings).

Run with Debian's Python (python3-torch, python3-pil):  /usr/bin/python3 bench/unlearnable/em_pytorch.py -h
Exit status: 0 when the stop error was reached, 3 when --max-rounds, --time-limit or SIGTERM/SIGINT ended the
search first (outputs are still written, and the JSON says "reached": false and "stoppedBy").
"""
import argparse, json, os, signal, sys, time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg"}


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Model: the reference ToyModel (HanxunH/Unlearnable-Examples models/ToyModel.py) = Cloak's SmallCNN.

class ConvBrunch(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.out_conv = nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())

    def forward(self, x):
        return self.out_conv(x)


class ToyModel(nn.Module):
    def __init__(self, in_ch, classes, widths=(64, 128, 256)):
        super().__init__()
        layers, c = [], in_ch
        for w in widths:
            layers += [ConvBrunch(c, w), nn.MaxPool2d(2, 2)]
            c = w
        self.block1 = nn.Sequential(*layers)
        self.global_avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(c, classes)

    def forward(self, x):
        return self.fc(self.global_avg_pool(self.block1(x)).flatten(1))


def surrogate_model(kind, in_ch, h, w, classes):
    """The surrogate: the ToyModel (the algorithm's), or, as an experiment, an MLP (two hidden layers of 512 with
    ReLU) or a linear model (softmax regression) over the flattened image."""
    if kind == "toy":
        return ToyModel(in_ch, classes)
    d = in_ch * h * w
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(d, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, classes))
    return nn.Sequential(nn.Flatten(), nn.Linear(d, classes))


# ---------------------------------------------------------------------------------------------------------------
# Data

def byte_key(s):
    return os.fsencode(s)


def list_image_folder(root, limit_per_class=None):
    """(classes, [(relative path, label)]) in Cloak's order: classes by name in byte order, then paths."""
    classes, samples = [], []
    for name in sorted(os.listdir(root), key=byte_key):
        path = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        files = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            for f in filenames:
                if not f.startswith(".") and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS:
                    files.append(os.path.join(dirpath, f))
        if not files:
            continue
        files.sort(key=byte_key)
        if limit_per_class is not None:
            files = files[:limit_per_class]
        label = len(classes)
        classes.append(name)
        samples += [(os.path.relpath(f, root), label) for f in files]
    if not classes:
        sys.exit(f"{root}: no class folder holds an image")
    return classes, samples


def load_images(root, samples):
    """uint8 array [N, H, W, C] (C = 1 when every image is grey, else 3)."""
    from PIL import Image
    imgs = []
    grey = True
    for rel, _ in samples:
        with Image.open(os.path.join(root, rel)) as im:
            if im.mode not in ("L", "1", "I;16", "I"):
                grey = False
            imgs.append(im.convert("L") if im.mode in ("L", "1", "I;16", "I") else im.convert("RGB"))
    sizes = {im.size for im in imgs}
    if len(sizes) != 1:
        sys.exit(f"{root}: images of {len(sizes)} different sizes; this benchmark script needs one common size")
    mode = "L" if grey else "RGB"
    arr = np.stack([np.asarray(im.convert(mode) if im.mode != mode else im, dtype=np.uint8) for im in imgs])
    if arr.ndim == 3:
        arr = arr[..., None]
    return arr


def write_png(path, pixels_hwc):
    from PIL import Image
    os.makedirs(os.path.dirname(path), exist_ok=True)
    a = pixels_hwc[..., 0] if pixels_hwc.shape[-1] == 1 else pixels_hwc
    tmp = path + ".tmp"
    Image.fromarray(a, "L" if a.ndim == 2 else "RGB").save(tmp, format="PNG")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------------------
# The min-min search

class MinMin:
    def __init__(self, x, y, classes, args, gen_idx):
        self.x, self.y, self.args = x, y, args
        self.classes = classes
        self.gen_idx = gen_idx                       # LongTensor of generation-set indices, in update order
        self.eps = args.epsilon / 255.0
        self.alpha = args.step_size / 255.0
        self.cl = args.channels_last
        n, c, h, w = x.shape
        patterns = classes if args.mode == "class" else n
        f, t = args.noise_block, args.noise_tile
        if h % f or w % f:
            sys.exit(f"--noise-block {f} must divide the image size {w}x{h}")
        if t and (h % t or w % t or f != 1):
            sys.exit(f"--noise-tile {t} must divide the image size {w}x{h} and excludes --noise-block")
        # The noise parameters: [patterns, C, H/f, W/f], nearest-upsampled by f to the image (f = 1: per pixel),
        # or [patterns, C, t, t] repeated across the image (--noise-tile t).
        self.h, self.w = h, w
        self.z = torch.zeros(patterns, c, t, t) if t else torch.zeros(patterns, c, h // f, w // f)
        if args.random_start:     # an experiment: seeded uniform noise in [-eps, eps] (as Cloak's randomStart), drawn
            # from its own generator so that the surrogate's initialisation and every later draw are a zero start's
            g = torch.Generator().manual_seed(args.seed + 3)
            self.z = (torch.rand(self.z.shape, generator=g) * (2 * self.eps) - self.eps).clamp_(-self.eps, self.eps)
        torch.manual_seed(args.seed)
        # One surrogate (the algorithm), or an ensemble (--surrogates K, an experiment: each trained in turn, the
        # noise descends the sum of their losses, the stop test takes the worst error of those never restarted).
        self.models, self.opts = [None] * args.surrogates, [None] * args.surrogates
        for i in range(args.surrogates):
            self.initialise(i)
        self.restarted = list(range(1 if args.surrogates > 1 else 0, args.surrogates)) if args.restart_every else []
        self.batch_gen = torch.Generator().manual_seed(args.seed + 1)
        self.order_gen = torch.Generator().manual_seed(args.seed + 2)
        self.train_order, self.train_pos = None, 0

    def initialise(self, i):
        _, c, h, w = self.x.shape
        m = surrogate_model(self.args.surrogate, c, h, w, self.classes)
        self.models[i] = m.to(memory_format=torch.channels_last) if self.cl else m
        self.opts[i] = torch.optim.SGD(self.models[i].parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)

    def fmt(self, t):
        return t.contiguous(memory_format=torch.channels_last) if self.cl else t.contiguous()

    def upsample(self, z):
        f, t = self.args.noise_block, self.args.noise_tile
        if t:
            return z.repeat(1, 1, self.h // t, self.w // t)
        return z if f == 1 else z.repeat_interleave(f, dim=2).repeat_interleave(f, dim=3)

    def block_sum(self, g):
        f, t = self.args.noise_block, self.args.noise_tile
        if t:
            n, c = g.shape[:2]
            return g.reshape(n, c, self.h // t, t, self.w // t, t).sum(dim=(2, 4))
        return g if f == 1 else F.avg_pool2d(g, f) * (f * f)

    @property
    def parameterised(self):
        return self.args.noise_block != 1 or self.args.noise_tile != 0

    @property
    def delta(self):
        """The noise at image resolution: [patterns, C, H, W]."""
        return self.upsample(self.z)

    def noise_for(self, idx):
        return self.upsample(self.z[self.y[idx]] if self.args.mode == "class" else self.z[idx])

    def noisy(self, idx):
        return (self.x[idx] + self.noise_for(idx)).clamp_(0, 1)

    def next_train_batch(self):
        n, b = len(self.gen_idx), min(self.args.batch_size, len(self.gen_idx))
        if self.train_order is None or self.train_pos + b > n:      # new pass; drop the last partial batch
            self.train_order = self.gen_idx[torch.randperm(n, generator=self.batch_gen)]
            self.train_pos = 0
        idx = self.train_order[self.train_pos:self.train_pos + b]
        self.train_pos += b
        return idx

    def set_frozen(self, frozen):
        for m in self.models:
            m.train(not frozen)
            for p in m.parameters():
                p.requires_grad_(not frozen)

    def train_surrogate(self, completed_rounds):
        restarting = not self.args.restart_until or completed_rounds < self.args.restart_until
        if self.restarted and restarting and completed_rounds > 0 and completed_rounds % self.args.restart_every == 0:
            for i in self.restarted:
                self.initialise(i)
        self.set_frozen(False)
        total = 0.0
        for m, opt in zip(self.models, self.opts):
            for _ in range(self.args.train_steps):
                idx = self.next_train_batch()
                xb, yb = self.fmt(self.noisy(idx)), self.y[idx]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(m(xb), yb)
                loss.backward()
                nn.utils.clip_grad_norm_(m.parameters(), 5.0)
                opt.step()
                total += loss.item()
        return total / max(1, self.args.train_steps * len(self.models))

    def update_noise(self):
        self.set_frozen(True)
        eps, alpha, B = self.eps, self.alpha, self.args.batch_size
        order = self.gen_idx
        if self.args.generation_order == "shuffled":  # a new seeded order each round, as a shuffling loader
            order = self.gen_idx[torch.randperm(len(self.gen_idx), generator=self.order_gen)]
        for s in range(0, len(order), B):
            idx = order[s:s + B]
            x, y = self.x[idx], self.y[idx]
            if self.args.class_update == "gradient":   # class-wise experiment: the patterns descend themselves
                self.update_patterns(x, y)
                continue
            zi = self.z[y] if self.args.mode == "class" else self.z[idx]     # indexing copies
            xa = (x + self.upsample(zi)).clamp_(0, 1)
            for _ in range(self.args.pgd_steps):
                xg = self.fmt(xa).detach().requires_grad_(True)
                loss = sum(F.cross_entropy(m(xg), y) for m in self.models)
                g, = torch.autograd.grad(loss, xg)
                with torch.no_grad():
                    if not self.parameterised:         # the reference's update: eta from the clamped image
                        zi = (xa - alpha * g.sign() - x).clamp_(-eps, eps)
                    else:                              # block noise: descend the block parameters themselves
                        zi = (zi - alpha * self.block_sum(g.contiguous()).sign()).clamp_(-eps, eps)
                    xa = (x + self.upsample(zi)).clamp_(0, 1)
            if self.args.mode == "sample":
                self.z[idx] = zi if self.parameterised else (xa - x)
            else:
                k = self.classes
                sums = torch.zeros(k, *zi.shape[1:]).index_add_(0, y, zi.contiguous())
                counts = torch.bincount(y, minlength=k)
                present = counts > 0
                self.z[present] = (sums[present] / counts[present].view(-1, 1, 1, 1).float()).clamp_(-eps, eps)
        self.set_frozen(False)

    def update_patterns(self, x, y):
        """--class-update gradient (class-wise, an experiment; Cloak's ErrorMinimizingNoise.updatePatterns): each class
        pattern present in the batch takes the `pgd_steps` sign-gradient steps itself,
        delta_c <- clamp(delta_c - step * sign(sum over the batch's class-c images i of m_i * grad_x CE_i), -eps, eps),
        the images seeing the pattern as updated by the previous step. The mask m_i drops image i at a pixel where
        x_i + delta_c (before the clamp) is at or past 0 or 1 and the descent step would push it further out
        (at <= 0 it counts only if its gradient is negative, at >= 1 only if positive: the clamp's one-sided
        derivative), so the pattern does not spend its budget where no image shows it. With --noise-block or
        --noise-tile the masked sum is also summed over the block or the tile's copies."""
        eps, alpha, k = self.eps, self.alpha, self.classes
        present = torch.bincount(y, minlength=k) > 0
        for _ in range(self.args.pgd_steps):
            v = x + self.upsample(self.z[y])                                  # x + delta, not yet clamped
            xg = self.fmt(v.clamp(0, 1)).detach().requires_grad_(True)
            loss = sum(F.cross_entropy(m(xg), y) for m in self.models)
            g, = torch.autograd.grad(loss, xg)
            with torch.no_grad():
                g = g.contiguous()
                keep = ((v > 0) | (g < 0)) & ((v < 1) | (g > 0))
                sums = torch.zeros(k, *g.shape[1:]).index_add_(0, y, g * keep)
                step = alpha * self.block_sum(sums).sign()
                self.z[present] = (self.z[present] - step[present]).clamp_(-eps, eps)

    @torch.no_grad()
    def surrogate_error(self):
        """The surrogate's error (the worst judging surrogate's, with an ensemble) on the noisy generation set."""
        self.set_frozen(True)
        worst, B = 0.0, self.args.batch_size
        judges = [m for i, m in enumerate(self.models) if i not in self.restarted] or self.models
        for m in judges:
            wrong = 0
            for s in range(0, len(self.gen_idx), B):
                idx = self.gen_idx[s:s + B]
                pred = m(self.fmt(self.noisy(idx))).argmax(1)
                wrong += (pred != self.y[idx]).sum().item()
            worst = max(worst, wrong / len(self.gen_idx))
        return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", required=True, help="ImageFolder tree to protect (<train>/<class>/<image>.png)")
    ap.add_argument("--out", required=True, help="folder for the cloaked tree, noise.npy and em_pytorch.json")
    ap.add_argument("--mode", choices=["class", "sample"], default="class")
    ap.add_argument("--epsilon", type=float, default=8, help="L-inf budget in 0-255 levels (default 8)")
    ap.add_argument("--step-size", type=float, default=0.8, help="sign-gradient step in 0-255 levels (default 0.8)")
    ap.add_argument("--pgd-steps", type=int, default=None, help="default 1 class-wise, 20 sample-wise")
    ap.add_argument("--train-steps", type=int, default=10, help="surrogate batches per round (default 10)")
    ap.add_argument("--stop-error", type=float, default=0.01)
    ap.add_argument("--subset", type=float, default=None,
                    help="class-wise: seeded fraction of the images that generates the noise (default 0.2)")
    ap.add_argument("--generation-order", choices=["sorted", "shuffled"], default="shuffled",
                    help="order of the generation set in the noise-update pass: a seeded order shuffled anew each "
                         "round (default; as Cloak and the reference's shuffling loader) or sorted file order")
    ap.add_argument("--limit-per-class", type=int, default=None, help="use only the first N images of each class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--surrogates", type=int, default=1,
                    help="an experiment, not the algorithm: an ensemble of K surrogates, each trained --train-steps "
                         "batches per round; the noise descends the sum of their losses and the stop test takes the "
                         "worst error (default 1)")
    ap.add_argument("--surrogate", choices=["toy", "mlp", "linear"], default="toy",
                    help="the surrogate: the reference ToyModel (default, the algorithm's) or, as an experiment, an "
                         "MLP (2 hidden layers of 512) or a linear model over the flattened image")
    ap.add_argument("--restart-every", type=int, default=0,
                    help="an experiment: re-initialise the surrogates after the first (with --surrogates 1, the only "
                         "one) every R rounds, so the noise must also suit barely trained models; the restarted ones "
                         "take no part in the stop test when there are others (default 0: never)")
    ap.add_argument("--restart-until", type=int, default=0,
                    help="with --restart-every: restart only before this many rounds are complete, then train on "
                         "(default 0: restart throughout)")
    ap.add_argument("--noise-block", type=int, default=1,
                    help="an experiment: the noise is one value per f x f block of pixels (its parameters have "
                         "H/f x W/f values, nearest-upsampled; the sign step descends their block-summed gradient); "
                         "default 1, per pixel as the algorithm")
    ap.add_argument("--noise-tile", type=int, default=0,
                    help="an experiment: the noise is a t x t tile repeated across the image (the sign step descends "
                         "the tile's gradient summed over its copies); default 0, per pixel as the algorithm")
    ap.add_argument("--class-update", choices=["reference", "gradient"], default=None,
                    help="class-wise only: how a batch updates the class patterns: the reference's (default: every "
                         "image takes its own PGD steps from its class pattern, the pattern becomes the clamped mean "
                         "of their perturbations) or, as an experiment, gradient (each pattern takes the sign steps "
                         "itself on the sum of its images' input gradients, an image dropped at a pixel where "
                         "x + delta is clamped at 0 or 1 and the step would push it further out)")
    ap.add_argument("--random-start", action="store_true",
                    help="an experiment: start from seeded uniform noise in [-eps, eps] instead of zero")
    ap.add_argument("--max-rounds", type=int, default=100)
    ap.add_argument("--time-limit", type=float, default=None,
                    help="minutes: stop after the first round that ends past this much generation time (outputs are "
                         "still written; SIGTERM or SIGINT does the same at the end of the current round)")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels-last", action="store_true", help="channels_last memory format (faster here)")
    ap.add_argument("--no-write", action="store_true", help="skip writing the cloaked images (noise.npy only)")
    args = ap.parse_args()
    if args.pgd_steps is None:
        args.pgd_steps = 1 if args.mode == "class" else 20
    if args.subset is None:
        args.subset = 0.2 if args.mode == "class" else 1.0
    elif args.mode == "sample" and args.subset != 1.0:
        sys.exit("--subset applies to class-wise noise only")
    if args.mode == "sample" and args.class_update is not None:
        sys.exit("--class-update applies to class-wise noise only")
    if args.mode == "class" and args.class_update is None:
        args.class_update = "reference"

    torch.set_num_threads(args.threads)
    t_start = time.perf_counter()

    # Load.
    classes, samples = list_image_folder(args.train, args.limit_per_class)
    pixels = load_images(args.train, samples)                                   # [N, H, W, C] uint8
    n, h, w, c = pixels.shape
    x = torch.from_numpy(pixels).permute(0, 3, 1, 2).float().div_(255).contiguous()
    y = torch.tensor([l for _, l in samples], dtype=torch.long)
    t_loaded = time.perf_counter()
    log(f"loaded {n} images {w}x{h}x{c}, {len(classes)} classes in {t_loaded - t_start:.1f}s")

    # Generation set.
    if args.mode == "class" and args.subset < 1:
        g = torch.Generator().manual_seed(args.seed)
        take = max(1, int(round(n * args.subset)))
        gen_idx = torch.randperm(n, generator=g)[:take]
        gen_idx = gen_idx.sort().values
    else:
        gen_idx = torch.arange(n)
    search = MinMin(x, y, len(classes), args, gen_idx)
    log(f"{args.mode}-wise noise, eps {args.epsilon:g}/255, step {args.step_size:g}/255, pgd steps {args.pgd_steps}, "
        f"train steps {args.train_steps}, {len(gen_idx)} of {n} images, stop error {args.stop_error}, "
        f"threads {args.threads}{', channels_last' if args.channels_last else ''}"
        f"{', class update gradient' if args.class_update == 'gradient' else ''}"
        f"{', random start' if args.random_start else ''}")

    # The min-min rounds. SIGTERM / SIGINT: finish the current round, then write what there is.
    interrupted = []
    def on_signal(signum, frame):
        if interrupted:
            raise KeyboardInterrupt
        interrupted.append(signum)
        log(f"signal {signum}: stopping after this round (send it again to abort now)")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    history, reached, rounds, stopped_by = [], False, 0, "max-rounds"
    t_gen = time.perf_counter()
    while rounds < args.max_rounds:
        t0, c0 = time.perf_counter(), time.process_time()
        loss = search.train_surrogate(rounds)
        t1 = time.perf_counter()
        search.update_noise()
        t2 = time.perf_counter()
        err = search.surrogate_error()
        t3 = time.perf_counter()
        rounds += 1
        use = search.delta.abs().mean().item() / search.eps
        history.append({"round": rounds, "error": err, "trainingLoss": loss, "budgetUse": use, "seconds": t3 - t0,
                        "trainSeconds": t1 - t0, "noiseSeconds": t2 - t1, "evalSeconds": t3 - t2,
                        "cpuSeconds": time.process_time() - c0, "load1": os.getloadavg()[0]})
        log(f"round {rounds}: surrogate error {err:.4f} (loss {loss:.3f}), eps-ball use {use * 100:.0f}%, "
            f"{t3 - t0:.1f}s (train {t1 - t0:.1f}, noise {t2 - t1:.1f}, eval {t3 - t2:.1f}; cpu "
            f"{history[-1]['cpuSeconds']:.0f}s, load {history[-1]['load1']:.1f}), total {t3 - t_gen:.0f}s")
        if err < args.stop_error:
            reached, stopped_by = True, "stop-error"
            break
        if interrupted:
            stopped_by = "signal"
            break
        if args.time_limit is not None and t3 - t_gen > args.time_limit * 60:
            stopped_by = "time-limit"
            break
    gen_seconds = time.perf_counter() - t_gen
    if not reached:
        log(f"STOP ERROR NOT REACHED ({stopped_by}): the surrogate's error was still {history[-1]['error']:.4f} "
            f"after {rounds} rounds (stop error {args.stop_error}); writing the noise so far. Raise --max-rounds "
            f"(or --time-limit) or --stop-error.")

    # Outputs.
    os.makedirs(args.out, exist_ok=True)
    delta = search.delta.numpy().astype(np.float32)
    np.save(os.path.join(args.out, "noise.npy"), delta)
    t_w = time.perf_counter()
    written, max_linf = 0, 0
    if not args.no_write:
        limit = int(np.floor(args.epsilon))
        d255 = delta.transpose(0, 2, 3, 1)                                      # HWC, [0, 1] units
        for i, (rel, label) in enumerate(samples):
            d = d255[label] if args.mode == "class" else d255[i]
            src = pixels[i].astype(np.int32)
            v = np.clip(pixels[i].astype(np.float32) / 255.0 + d, 0, 1)
            q = np.clip(np.rint(v * 255).astype(np.int32), src - limit, src + limit)
            q = np.clip(q, 0, 255)
            max_linf = max(max_linf, int(np.abs(q - src).max()))
            write_png(os.path.join(args.out, os.path.splitext(rel)[0] + ".png"), q.astype(np.uint8))
            written += 1
    write_seconds = time.perf_counter() - t_w
    total = time.perf_counter() - t_start
    summary = {
        "implementation": "pytorch", "torch": torch.__version__, "threads": args.threads,
        "channelsLast": args.channels_last, "mode": args.mode, "rounds": rounds, "reached": reached, "stoppedBy": stopped_by,
        "finalError": history[-1]["error"], "seconds": total, "generationSeconds": gen_seconds,
        "loadSeconds": t_loaded - t_start, "writeSeconds": write_seconds, "images": n,
        "generationImages": len(gen_idx), "written": written, "maxLinf": max_linf, "classes": classes,
        "noiseShape": list(delta.shape),
        "settings": {"epsilon": args.epsilon, "stepSize": args.step_size, "pgdSteps": args.pgd_steps,
                     "trainSteps": args.train_steps, "stopError": args.stop_error, "subset": args.subset,
                     "generationOrder": args.generation_order, "limitPerClass": args.limit_per_class,
                     "seed": args.seed, "surrogate": args.surrogate, "surrogates": args.surrogates,
                     "noiseBlock": args.noise_block,
                     "noiseTile": args.noise_tile,
                     "classUpdate": args.class_update, "randomStart": args.random_start,
                     "restartEvery": args.restart_every, "restartUntil": args.restart_until,
                     "maxRounds": args.max_rounds, "timeLimitMinutes": args.time_limit, "batchSize": args.batch_size},
        "history": history,
    }
    with open(os.path.join(args.out, "em_pytorch.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    log(f"{args.mode}-wise noise: surrogate error {history[-1]['error']:.4f} after {rounds} rounds, "
        f"generation {gen_seconds:.0f}s ({gen_seconds / 60:.1f} min), wrote {written} images (L-inf <= {max_linf}) "
        f"in {write_seconds:.0f}s, total {total:.0f}s")
    sys.exit(0 if reached else 3)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""`make bench-engine`: Cloak's engine and PyTorch side by side on the same 2 cores, one table of ratios.

Usage: /usr/bin/python3 bench/engine/compare.py path/to/cloak-bench-engine [--small-only] [--rounds N]

PyTorch (Debian python3-torch, 2 threads) runs each row with NCHW and with channels_last tensors; the faster
one is reported. Rows: SmallCNN (the Unlearnable Examples ToyModel) at 1x28x28 and 3x32x32, batch 128: train step
(forward, cross-entropy, backward, SGD momentum 0.9 + weight decay), PGD step (inference-mode model, frozen
parameters, input gradient, sign step and projection), inference; ResNet18 (CIFAR variant) at 3x32x32: train and
PGD step. Times are medians over interleaved rounds (default 3) of per-round medians. Ratio = PyTorch time / Cloak time (> 1 means Cloak is faster).
"""
import os, subprocess, sys, time

try:
    import torch, torch.nn as nn, torch.nn.functional as F
except ImportError:
    sys.exit("bench-engine needs PyTorch for the comparison: apt-get install -y --no-install-recommends python3-torch "
             "(Debian's package; this script runs with /usr/bin/python3)")

torch.set_num_threads(2)
B = 128


class ConvBrunch(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.out_conv = nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())

    def forward(self, x):
        return self.out_conv(x)


class ToyModel(nn.Module):
    def __init__(self, in_ch, classes=10):
        super().__init__()
        self.block1 = nn.Sequential(ConvBrunch(in_ch, 64), nn.MaxPool2d(2, 2), ConvBrunch(64, 128), nn.MaxPool2d(2, 2),
                                    ConvBrunch(128, 256), nn.MaxPool2d(2, 2))
        self.global_avg_pool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(256, classes)

    def forward(self, x):
        return self.fc(self.global_avg_pool(self.block1(x)).flatten(1))


class BasicBlock(nn.Module):
    def __init__(self, i, o, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(o)
        self.shortcut = nn.Sequential()
        if stride != 1 or i != o:
            self.shortcut = nn.Sequential(nn.Conv2d(i, o, 1, stride, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False); self.bn1 = nn.BatchNorm2d(64)
        layers, c = [], 64
        for w, s in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers.append(nn.Sequential(BasicBlock(c, w, s), BasicBlock(w, w))); c = w
        self.layer1, self.layer2, self.layer3, self.layer4 = layers
        self.linear = nn.Linear(512, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return self.linear(F.adaptive_avg_pool2d(out, 1).flatten(1))


def median_time(fn, warm, reps):
    """Median wall seconds and mean process CPU seconds (all threads) per call, after `warm` calls."""
    for _ in range(warm):
        fn()
    ts = []
    c0 = time.process_time()
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    cpu = (time.process_time() - c0) / reps
    ts.sort()
    return ts[len(ts) // 2], cpu


def torch_rows(name, make, shape, reps, with_inference=True):
    """Median seconds per row for this model, the faster of NCHW and channels_last for each row."""
    best = {}
    for layout in ["nchw", "channels_last"]:
        torch.manual_seed(0)
        model = make()
        x = torch.rand(B, *shape); y = torch.arange(B) % 10
        if layout == "channels_last":
            model = model.to(memory_format=torch.channels_last); x = x.contiguous(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)

        def train():
            model.train(); opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward(); opt.step()
        times = {"train step": median_time(train, 2, reps)}
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        state = {"x": x.clone()}
        eps, alpha = 8 / 255, 2 / 255

        def pgd():
            xa = state["x"].detach().requires_grad_(True)
            g, = torch.autograd.grad(F.cross_entropy(model(xa), y), xa)
            state["x"] = torch.min(torch.max(xa.detach() + alpha * g.sign(), x - eps), x + eps).clamp(0, 1)
        times["PGD step"] = median_time(pgd, 2, reps)
        if with_inference:
            with torch.no_grad():
                times["inference"] = median_time(lambda: model(x), 2, reps)
        for k, (v, cpu) in times.items():
            key = f"{name} {k}"
            if key not in best or v < best[key][0]:
                best[key] = (v, layout, cpu)
    return best


MODELS = {
    "small1": lambda: torch_rows("SmallCNN 1x28x28", lambda: ToyModel(1), (1, 28, 28), 15),
    "small3": lambda: torch_rows("SmallCNN 3x32x32", lambda: ToyModel(3), (3, 32, 32), 15),
    "resnet": lambda: torch_rows("ResNet18 3x32x32", ResNet18, (3, 32, 32), 5, with_inference=False),
}


def cloak_rows(binary, model, env):
    out = subprocess.run([binary, "table", "--models", model], env=env, check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.strip().splitlines():
        name, wall, cpu = line.split("\t")
        rows[name] = (float(wall) / 1e3, float(cpu) / 1e3)
    return rows


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2] if len(s) % 2 else (s[len(s) // 2 - 1] + s[len(s) // 2]) / 2


def main():
    binary = sys.argv[1]
    models = ["small1", "small3"] if "--small-only" in sys.argv else ["small1", "small3", "resnet"]
    rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 3
    env = dict(os.environ, OMP_NUM_THREADS="2", OMP_WAIT_POLICY=os.environ.get("OMP_WAIT_POLICY", "PASSIVE"))

    # Rounds: each model's Cloak rows (a fresh process) and PyTorch rows run back to back, in alternating order,
    # so a cold start or a burst of load from other processes cannot decide a ratio on its own. Each side warms
    # up the same way (2 untimed calls per row) and reports the median of its timed calls; the table shows the
    # median over rounds and the range of the per-round ratios.
    cloak, pytorch, layouts, ratios, cloak_cpu, pytorch_cpu = {}, {}, {}, {}, {}, {}
    loads = [os.getloadavg()[0]]
    started = time.time()
    for r in range(rounds):
        for m in models:
            order = ["cloak", "torch"] if r % 2 == 0 else ["torch", "cloak"]
            got = {}
            for side in order:
                got[side] = cloak_rows(binary, m, env) if side == "cloak" else MODELS[m]()
            for row, (t, cpu) in got["cloak"].items():
                if row not in got["torch"]:
                    continue
                pt, layout, pcpu = got["torch"][row]
                cloak_cpu.setdefault(row, []).append(cpu)
                pytorch_cpu.setdefault(row, []).append(pcpu)
                cloak.setdefault(row, []).append(t)
                pytorch.setdefault(row, []).append(pt)
                layouts.setdefault(row, []).append(layout)
                ratios.setdefault(row, []).append(pt / t)
        loads.append(os.getloadavg()[0])
        print(f"round {r + 1}/{rounds} done ({time.time() - started:.0f} s, load average {loads[-1]:.1f})",
              file=sys.stderr)

    print(f"Cloak engine vs PyTorch {torch.__version__} (2 threads, faster of NCHW/channels_last), batch {B}, "
          f"{time.strftime('%Y-%m-%d')}, oneDNN via Debian libdnnl 2.6.3; {rounds} interleaved rounds, "
          f"1-min load average {min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} CPUs")
    print()
    print("Wall: median over rounds of each round's median step time. Ratio = PyTorch wall / Cloak wall (> 1: Cloak "
          "faster). CPU: mean process CPU time per step over both threads (median over rounds), which waiting for a "
          "busy core does not inflate.")
    print()
    print("| row | Cloak ms | Cloak img/s | PyTorch ms (layout) | PyTorch img/s | ratio | per-round ratios "
          "| CPU ms Cloak / PyTorch | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in cloak:
        t, pt = median(cloak[row]), median(pytorch[row])
        c, pc = median(cloak_cpu[row]), median(pytorch_cpu[row])
        layout = max(set(layouts[row]), key=layouts[row].count)
        spread = ", ".join(f"{x:.2f}" for x in ratios[row])
        print(f"| {row} | {t * 1e3:.1f} | {B / t:.0f} | {pt * 1e3:.1f} ({layout}) | {B / pt:.0f} | {pt / t:.2f}x | "
              f"{spread} | {c * 1e3:.0f} / {pc * 1e3:.0f} | {pc / c:.2f}x |")


if __name__ == "__main__":
    main()

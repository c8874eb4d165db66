#!/usr/bin/python3
"""The PyTorch baseline of `make bench-faces`: one face-cloak step's network work in PyTorch, timed.

  /usr/bin/python3 bench/faces/torch_step.py [--reps 30] [--warmup 3] [--crop 400] [--jitters 4] [--json]

One step, as a PyTorch implementation of Cloak's face cloak makes it:
  1. warp: `F.affine_grid` + `F.grid_sample` (bilinear, zeros outside) of a 1x3xHxW face-region crop (expanded
     to the jitter batch) into `jitters` 150x150 chips, each with its own random small similarity transform;
  2. dlib's input scaling `(pixel - mean_c) / 256`;
  3. dlib's face descriptor ResNet (`dlib_face_recognition_resnet_model_v1`, 29 convolutions, see below) forward;
  4. the untargeted loss (mean distance of each jitter's descriptor from the face's own);
  5. backward to the crop (through the network and the warp), every parameter frozen (requires_grad False).
Not included (Cloak's step does them): the RGB DSSIM term and its gradient, Adam and the clamp to the cap, and
dlib's pyramid_down halving before the bilinear sample. So this baseline is a lower bound for a PyTorch step.

The network is dlib's wiring (dlib tools/python/src/face_recognition.cpp) with random weights (timing only):
  stem:  con 7x7/2 pad 0 (3->32, bias) . affine . relu . max_pool 3x3/2 pad 0           150 -> 72 -> 35
  plain: out = relu(x + affine(con3x3/1(relu(affine(con3x3/1(x))))))                     (3 x 32 ch)
  down:  out = relu(zero-pad-add(affine(con3x3/1(relu(affine(con3x3/2 pad 0(x))))), avg_pool 2x2/2(x)))
         64 (+3 plain) 17x17, 128 (+2 plain) 8x8, 256 (+2 plain) 4x4 (block 3x3 zero-padded to the skip's 4x4),
         256 2x2 (block 1x1 padded to 2x2)
  head:  avg_pool over everything . fc 256->128 without bias
`add_prev` adds tensors of different shapes by zero-padding both to the element-wise larger (C, H, W), as dlib's
`cpu::add(dest, src1, src2)`. Every convolution has a bias (dlib's `con_` layers do); the parameter count is
checked against the real file's 5,614,592 floats.

dlib's `affine_` layer (its inference form of batch norm) is timed in three PyTorch forms and the fastest is
reported, so the baseline is as strong as plain PyTorch allows: `mul-add` (x * gamma + beta, frozen per-channel
tensors), `batchnorm` (`nn.BatchNorm2d` in eval mode, frozen) and `folded` (gamma and beta folded into the preceding
convolution's weights and bias: the same function with one op fewer). Each in NCHW and channels_last.
Timing: `warmup` untimed steps, then the median wall time of `reps` steps; mean process CPU time per step too.
torch.set_num_threads(2).
"""
import argparse, json, math, sys, time

try:
    import torch, torch.nn as nn, torch.nn.functional as F
except ImportError:
    sys.exit("bench-faces needs PyTorch for the baseline: apt-get install -y --no-install-recommends python3-torch "
             "(Debian's package; this script runs with /usr/bin/python3)")

torch.set_num_threads(2)
MEAN = (122.782, 117.001, 104.298)   # dlib's input_rgb_image_sized means, R G B
CHIP = 150
DLIB_PARAMETERS = 5_614_592          # floats in dlib_face_recognition_resnet_model_v1.dat


class Affine(nn.Module):
    """dlib's affine_ (CONV_MODE): y = gamma[c] * x + beta[c], frozen; or nn.BatchNorm2d in eval mode."""

    def __init__(self, c, form, generator):
        super().__init__()
        self.form = form
        gamma = 1 + 0.1 * torch.randn(c, generator=generator)
        beta = 0.05 * torch.randn(c, generator=generator)
        if form == "batchnorm":
            self.bn = nn.BatchNorm2d(c)
            with torch.no_grad():
                self.bn.weight.copy_(gamma); self.bn.bias.copy_(beta)
            self.bn.eval()
        else:
            self.gamma = nn.Parameter(gamma.view(1, c, 1, 1))
            self.beta = nn.Parameter(beta.view(1, c, 1, 1))

    def forward(self, x):
        if self.form == "batchnorm":
            return self.bn(x)
        return x * self.gamma + self.beta


class ConvAffine(nn.Module):
    """dlib's con_ (with bias) followed by affine_; `folded` merges the affine into the convolution."""

    def __init__(self, cin, cout, k, stride, pad, form, generator):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, bias=True)
        with torch.no_grad():   # He initialisation, so activations stay O(1) (no denormals) through 29 layers
            self.conv.weight.copy_(torch.randn(self.conv.weight.shape, generator=generator)
                                   * math.sqrt(2 / (cin * k * k)))
            self.conv.bias.copy_(0.01 * torch.randn(cout, generator=generator))
        self.affine = Affine(cout, "mul-add" if form == "folded" else form, generator)
        if form == "folded":
            with torch.no_grad():
                g, b = self.affine.gamma.view(-1), self.affine.beta.view(-1)
                self.conv.weight.mul_(g.view(-1, 1, 1, 1))
                self.conv.bias.copy_(self.conv.bias * g + b)
            self.affine = nn.Identity()
        self.parameter_count = cin * cout * k * k + cout + 2 * cout   # as stored in dlib's file

    def forward(self, x):
        return self.affine(self.conv(x))


def zero_pad_add(a, b):
    """dlib's add_prev: a + b, each zero-padded (channels, rows, columns at the end) to the larger shape."""
    c, h, w = (max(a.shape[i], b.shape[i]) for i in (1, 2, 3))

    def pad(t):
        if t.shape[1:] == (c, h, w):
            return t
        return F.pad(t, (0, w - t.shape[3], 0, h - t.shape[2], 0, c - t.shape[1]))
    return pad(a) + pad(b)


class Block(nn.Module):
    def __init__(self, cin, cout, down, form, generator):
        super().__init__()
        self.down = down
        self.a = ConvAffine(cin, cout, 3, 2 if down else 1, 0 if down else 1, form, generator)
        self.b = ConvAffine(cout, cout, 3, 1, 1, form, generator)

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        skip = F.avg_pool2d(x, 2, 2) if self.down else x
        return F.relu(zero_pad_add(y, skip))


class DlibFaceResNet(nn.Module):
    def __init__(self, form, seed=0):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.stem = ConvAffine(3, 32, 7, 2, 0, form, g)
        blocks, c = [], 32
        for width, plain in [(32, 3), (64, 3), (128, 2), (256, 2), (256, 0)]:
            if width != 32:
                blocks.append(Block(c, width, True, form, g)); c = width
            blocks += [Block(c, c, False, form, g) for _ in range(plain)]
        self.blocks = nn.Sequential(*blocks)
        self.fc = nn.Linear(256, 128, bias=False)
        with torch.no_grad():
            self.fc.weight.copy_(torch.randn(128, 256, generator=g) / 16)
        convs = [self.stem] + [m for b in blocks for m in (b.a, b.b)]
        assert len(convs) == 29, len(convs)
        stored = sum(m.parameter_count for m in convs) + 256 * 128
        assert stored == DLIB_PARAMETERS, f"{stored} parameters, dlib's file has {DLIB_PARAMETERS}"

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.stem(x)), 3, 2)
        x = self.blocks(x)
        return self.fc(x.mean(dim=(2, 3)))


def shapes(model):
    """(C, H, W) after the stem and after each block, for a check against dlib's measured shapes."""
    out, x = [], torch.zeros(1, 3, CHIP, CHIP)
    with torch.no_grad():
        x = F.max_pool2d(F.relu(model.stem(x)), 3, 2); out.append(tuple(x.shape[1:]))
        for b in model.blocks:
            x = b(x); out.append(tuple(x.shape[1:]))
    return out


EXPECTED_SHAPES = ([(32, 35, 35)] * 4 + [(64, 17, 17)] * 4 + [(128, 8, 8)] * 3 + [(256, 4, 4)] * 3 + [(256, 2, 2)])


def random_thetas(jitters, crop, generator):
    """affine_grid matrices mapping each chip onto the crop: the face region's central part (as dlib's chip
    covers the region), with a random shift (+-3 chip px), scale (+-5 %) and rotation (+-4 degrees)."""
    thetas = []
    for _ in range(jitters):
        r = torch.rand(4, generator=generator) * 2 - 1
        angle, scale = r[0].item() * 4 * math.pi / 180, 0.85 * (1 + 0.05 * r[1].item())
        shift = 3 / CHIP * 2 * 0.85
        thetas.append([[scale * math.cos(angle), -scale * math.sin(angle), shift * r[2].item()],
                       [scale * math.sin(angle), scale * math.cos(angle), shift * r[3].item()]])
    return torch.tensor(thetas)


def time_config(form, layout, args):
    torch.manual_seed(0)
    model = DlibFaceResNet(form)
    assert shapes(model) == EXPECTED_SHAPES, shapes(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    g = torch.Generator().manual_seed(1)
    crop = torch.rand(1, 3, args.crop, args.crop, generator=g) * 255
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    if layout == "channels_last":
        model = model.to(memory_format=torch.channels_last)
        crop = crop.contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        grid = F.affine_grid(random_thetas(1, args.crop, g), (1, 3, CHIP, CHIP), align_corners=False)
        own = model((F.grid_sample(crop, grid, align_corners=False) - mean) / 256)
    state = {"x": crop.clone()}
    gen = torch.Generator().manual_seed(2)

    def step():
        x = state["x"].detach().requires_grad_(True)
        grid = F.affine_grid(random_thetas(args.jitters, args.crop, gen), (args.jitters, 3, CHIP, CHIP),
                             align_corners=False)
        chips = F.grid_sample(x.expand(args.jitters, -1, -1, -1), grid, mode="bilinear", padding_mode="zeros",
                              align_corners=False)
        if layout == "channels_last":
            chips = chips.contiguous(memory_format=torch.channels_last)
        d = model((chips - mean) / 256)
        loss = -(d - own).norm(dim=1).mean()
        grad, = torch.autograd.grad(loss, x)
        # a stand-in for the optimiser's move, so consecutive steps see different pixels (as in a real cloak)
        state["x"] = (x.detach() - grad.sign()).clamp(0, 255)
        return d

    d = step()
    assert torch.isfinite(d).all() and 0.01 < d.norm(dim=1).mean().item() < 1e4, "descriptor out of range"
    for _ in range(args.warmup):
        step()
    times = []
    c0 = time.process_time()
    for _ in range(args.reps):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    cpu = (time.process_time() - c0) / args.reps
    times.sort()
    return {"form": form, "layout": layout, "ms": times[len(times) // 2] * 1e3, "cpu_ms": cpu * 1e3,
            "min_ms": times[0] * 1e3, "max_ms": times[-1] * 1e3}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--crop", type=int, default=400, help="side of the square face-region crop (pixels)")
    ap.add_argument("--jitters", type=int, default=4)
    ap.add_argument("--forms", default="mul-add,batchnorm,folded")
    ap.add_argument("--layouts", default="nchw,channels_last")
    ap.add_argument("--json", action="store_true", help="one JSON object on standard output")
    args = ap.parse_args()
    rows = [time_config(f, l, args) for f in args.forms.split(",") for l in args.layouts.split(",")]
    best = min(rows, key=lambda r: r["ms"])
    result = {"torch": torch.__version__, "threads": torch.get_num_threads(), "crop": args.crop,
              "jitters": args.jitters, "reps": args.reps, "warmup": args.warmup, "rows": rows, "best": best}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads, {args.jitters} chips from a "
              f"{args.crop}x{args.crop} crop, median of {args.reps} steps after {args.warmup}")
        for r in rows:
            print(f"  {r['form']:9s} {r['layout']:13s} {r['ms']:7.1f} ms/step (CPU {r['cpu_ms']:.0f} ms, "
                  f"range {r['min_ms']:.0f}-{r['max_ms']:.0f})")
        print(f"fastest: {best['form']} {best['layout']} {best['ms']:.1f} ms/step")


if __name__ == "__main__":
    main()

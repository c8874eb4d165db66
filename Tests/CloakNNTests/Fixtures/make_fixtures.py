#!/usr/bin/python3
"""Golden numbers from PyTorch for Cloak's engine tests (Tests/CloakNNTests/GoldenTests.swift).

Re-run by hand from the repository root (needs Debian's python3-torch; use Debian's own python3):

    apt-get install -y --no-install-recommends python3-torch
    /usr/bin/python3 Tests/CloakNNTests/Fixtures/make_fixtures.py

Writes small JSON files next to this script. Float arrays are little-endian float32, base64-encoded (exact and
compact). Activations are written in Cloak's NHWC layout (PyTorch computes in NCHW; we permute); weights stay in
PyTorch's layout (OIHW for convolutions, [out, in] for linear layers), which is also Cloak's.
"""
import base64, json, os, struct
import torch, torch.nn as nn, torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
HERE = os.path.dirname(os.path.abspath(__file__))


def b64(t):
    t = t.detach().contiguous().to(torch.float32).flatten()
    return base64.b64encode(struct.pack("<%df" % t.numel(), *t.tolist())).decode()


def nhwc(t):
    return t.permute(0, 2, 3, 1) if t.dim() == 4 else t


def arr(t, activation=False):
    t = nhwc(t) if activation else t
    return {"shape": list(t.shape), "data": b64(t)}


# The reference ToyModel (HanxunH/Unlearnable-Examples models/ToyModel.py), with configurable widths.
class ConvBrunch(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.out_conv = nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())

    def forward(self, x):
        return self.out_conv(x)


class ToyModel(nn.Module):
    def __init__(self, in_ch, classes, widths):
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


# kuangliu/pytorch-cifar BasicBlock.
class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False); self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False); self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


def randomize_bn(model):
    # Non-trivial affine parameters and running statistics, so that every term is exercised.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5); m.bias.uniform_(-0.5, 0.5)
                m.running_mean.uniform_(-0.2, 0.2); m.running_var.uniform_(0.5, 1.5)


def golden(model, x, labels, name, lr=0.1, momentum=0.9, weight_decay=5e-4):
    randomize_bn(model)
    params = {k: arr(v) for k, v in model.named_parameters()}
    buffers = {k: arr(v) for k, v in model.named_buffers() if not k.endswith("num_batches_tracked")}
    model.train()
    xg = x.clone().requires_grad_(True)
    out = model(xg)
    if labels is None:                       # a block: probe loss sum(out * r)
        r = torch.randn_like(out)
        loss = (out * r).sum()
        extra = {"probe": arr(r, activation=True)}
    else:
        loss = F.cross_entropy(out, labels)
        extra = {"labels": labels.tolist()}
    loss.backward()
    record = {
        "input": arr(x, activation=True), "output": arr(out, activation=True), "loss": loss.item(),
        "parameters": params, "buffers": buffers,
        "input_gradient": arr(xg.grad, activation=True),
        "parameter_gradients": {k: arr(v.grad) for k, v in model.named_parameters()},
        "buffers_after_forward": {k: arr(v) for k, v in model.named_buffers() if not k.endswith("num_batches_tracked")},
        "sgd": {"learning_rate": lr, "momentum": momentum, "weight_decay": weight_decay},
        **extra,
    }
    # Two SGD steps (momentum matters from the second one on), reusing the same gradient.
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    opt.step(); opt.step()
    record["parameters_after_two_sgd_steps"] = {k: arr(v) for k, v in model.named_parameters()}
    model.eval()
    with torch.no_grad():
        record["inference_output_after_steps"] = arr(model(x), activation=True)
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(record, f, separators=(",", ":"))


golden(ToyModel(1, 3, [3, 4, 4]), torch.randn(2, 1, 8, 8), torch.tensor([2, 0]), "smallcnn")
golden(BasicBlock(3, 4, stride=2), torch.randn(2, 3, 5, 5), None, "basicblock")

# Optimisers on a fixed gradient sequence: SGD with Nesterov momentum, and Adam with weight decay.
p0 = torch.randn(6)
grads = [torch.randn(6) for _ in range(3)]
record = {"initial": arr(p0), "gradients": [arr(g) for g in grads]}
for key, make in [("sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.05, momentum=0.9, weight_decay=1e-2, nesterov=True)),
                  ("adam", lambda p: torch.optim.Adam([p], lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-2))]:
    p = p0.clone().requires_grad_(True)
    opt = make(p)
    for g in grads:
        p.grad = g.clone(); opt.step()
    record[key] = arr(p)
with open(os.path.join(HERE, "optimizers.json"), "w") as f:
    json.dump(record, f, separators=(",", ":"))
print("wrote", sorted(n for n in os.listdir(HERE) if n.endswith(".json")))

"""The benchmark presets of `npm run bench` in PyTorch, for the speed comparison in docs/performance.md.

A timm-style ViT (pre-norm, fused qkv, CLS pooling, exact GELU); LoRA r=8 (alpha 8) on q and v
with the backbone frozen and the head trained, AdamW, 10 classes. Presets as `npm run bench`:
`small` (default) batch 16 of 32x32x3, patch 4, width 192, depth 2, 3 heads, MLP 768, median of
20 steps after 10 warm-up steps; `vit-b16` batch 8 of 224x224x3, patch 16, width 768, depth 12,
12 heads, MLP 3072, median of 3 steps after 2. For the thread counts given (default 1 and 2), or
on the GPU for `cuda`. Each step reads the loss back to the host, as the tfjs trainer does.

    /usr/bin/python3 bench/pytorch_lora_step.py 1 2                     # Debian's python3-torch (OpenBLAS)
    /usr/bin/python3 bench/pytorch_lora_step.py --preset vit-b16 2
    python3 bench/pytorch_lora_step.py cuda                             # on a CUDA machine
"""
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoRALinear(nn.Module):
    def __init__(self, base: nn.Module, rows: slice, features: int, rank: int = 8, alpha: float = 8.0):
        super().__init__()
        self.base, self.rows, self.scale = base, rows, alpha / rank
        n = rows.stop - rows.start
        self.a = nn.Parameter(torch.empty(rank, features).uniform_(-features ** -0.5, features ** -0.5))
        self.b = nn.Parameter(torch.zeros(n, rank))

    def forward(self, x):
        y = self.base(x)
        delta = (x @ self.a.t()) @ self.b.t() * self.scale
        return torch.cat([y[..., : self.rows.start], y[..., self.rows] + delta, y[..., self.rows.stop :]], dim=-1)


class Block(nn.Module):
    def __init__(self, w: int, heads: int, hidden: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(w, eps=1e-6), nn.LayerNorm(w, eps=1e-6)
        self.qkv, self.proj = nn.Linear(w, 3 * w), nn.Linear(w, w)
        self.fc1, self.fc2 = nn.Linear(w, hidden), nn.Linear(hidden, w)

    def forward(self, x):
        n, t, w = x.shape
        qkv = self.qkv(self.norm1(x)).reshape(n, t, 3, self.heads, w // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = torch.softmax(q @ k.transpose(-2, -1) * (w // self.heads) ** -0.5, dim=-1)
        x = x + self.proj((attn @ v).transpose(1, 2).reshape(n, t, w))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vit(nn.Module):
    def __init__(self, image=32, patch=4, channels=3, w=192, depth=2, heads=3, hidden=768, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(channels, w, patch, patch)
        self.cls = nn.Parameter(torch.zeros(1, 1, w))
        self.pos = nn.Parameter(torch.randn(1, (image // patch) ** 2 + 1, w) * 0.02)
        self.blocks = nn.ModuleList(Block(w, heads, hidden) for _ in range(depth))
        self.norm, self.head = nn.LayerNorm(w, eps=1e-6), nn.Linear(w, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.head(self.norm(x)[:, 0])


PRESETS = {
    "small": dict(model=dict(image=32, patch=4, w=192, depth=2, heads=3, hidden=768), batch=16, warmup=10, steps=20),
    "vit-b16": dict(model=dict(image=224, patch=16, w=768, depth=12, heads=12, hidden=3072), batch=8, warmup=2, steps=3),
}


def step_ms(where: str, preset: dict) -> float:
    device = "cuda" if where == "cuda" else "cpu"
    if device == "cpu":
        torch.set_num_threads(int(where))
    torch.manual_seed(0)
    model = Vit(**preset["model"])
    for p in model.parameters():
        p.requires_grad_(False)
    w = preset["model"]["w"]
    for b in model.blocks:
        b.qkv = LoRALinear(LoRALinear(b.qkv, slice(0, w), w), slice(2 * w, 3 * w), w)
    for p in model.head.parameters():
        p.requires_grad_(True)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-4)
    n, image = preset["batch"], preset["model"]["image"]
    x, y = torch.randn(n, 3, image, image, device=device), torch.randint(0, 10, (n,), device=device)
    times = []
    for i in range(preset["warmup"] + preset["steps"]):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if i >= preset["warmup"]:
            times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


if __name__ == "__main__":
    args = sys.argv[1:]
    name = "small"
    if "--preset" in args:
        i = args.index("--preset")
        name = args[i + 1]
        args = args[:i] + args[i + 2 :]
    preset = PRESETS[name]
    for where in args or ["1", "2"]:
        label = torch.cuda.get_device_name() if where == "cuda" else f"{where} thread(s)"
        ms = step_ms(where, preset)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        print(f"torch {torch.__version__}, {name}, {label}: LoRA step {ms:.1f} ms (median of {preset['steps']}), peak RSS {peak / 1e9:.2f} GB")

"""One epoch of LoRA on a ViT-B/16 at 224 over an image folder, in PyTorch on the CPU, for the
side-by-side comparison with `peft train` in docs/performance.md.

The configuration of the peft experiment it is compared with: timm's vit_base_patch16_224 (random
weights: the time does not depend on them), head reset to the folder's classes, LoRA r8 (alpha 8)
on q and v with the backbone frozen and the head trained, AdamW (lr 1e-3, weight decay 1e-4),
batch 64 in micro-batches of 2 (gradients accumulated), images squashed to 224 with bicubic and
normalised with mean 0.5 / std 0.5, in the epoch order of a fixed seed. Prints one JSON line:
decode seconds, seconds in train steps, images per second, peak resident memory.

    PYTHONPATH=/path/to/timm /usr/bin/python3 bench/pytorch_vit_folder_epoch.py FOLDER/train [THREADS] [MICRO]
"""
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F
from PIL import Image
import timm

sys.path.insert(0, os.path.dirname(__file__))
from pytorch_lora_step import LoRALinear  # noqa: E402


def read_folder(root: str):
    classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
    images, labels = [], []
    for label, c in enumerate(classes):
        for f in sorted(os.listdir(os.path.join(root, c))):
            img = Image.open(os.path.join(root, c, f)).convert("RGB").resize((224, 224), Image.BICUBIC)
            images.append((torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).view(224, 224, 3).permute(2, 0, 1).float() / 255 - 0.5) / 0.5)
            labels.append(label)
    return torch.stack(images), torch.tensor(labels), len(classes)


def main(root: str, threads: int, micro: int, batch: int = 64):
    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    x, y, classes = read_folder(root)
    decode = time.perf_counter() - t0
    torch.manual_seed(0)
    model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=classes)
    for p in model.parameters():
        p.requires_grad_(False)
    w = model.embed_dim
    for b in model.blocks:
        b.attn.qkv = LoRALinear(LoRALinear(b.attn.qkv, slice(0, w), w), slice(2 * w, 3 * w), w)
    for p in model.head.parameters():
        p.requires_grad_(True)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, weight_decay=1e-4)
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))
    steps = []
    for at in range(0, len(y), batch):
        idx = order[at:at + batch]
        t = time.perf_counter()
        opt.zero_grad()
        for m in range(0, len(idx), micro):
            part = idx[m:m + micro]
            loss = F.cross_entropy(model(x[part]), y[part]) * (len(part) / len(idx))
            loss.backward()
        opt.step()
        loss.item()
        steps.append(time.perf_counter() - t)
        print(f"step {len(steps)}: {steps[-1]:.1f}s", file=sys.stderr, flush=True)
    print(json.dumps({
        "torch": torch.__version__, "threads": threads, "images": len(y), "batch": batch, "microBatch": micro,
        "decodeSeconds": round(decode, 2), "trainSeconds": round(sum(steps), 1), "trainImagesPerSecond": round(len(y) / sum(steps), 3),
        "medianStepSeconds": round(sorted(steps)[len(steps) // 2], 2), "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2, int(sys.argv[3]) if len(sys.argv) > 3 else 2)

"""Write test/fixtures/torch/randperm.json: torch's own CPU randperm, as HF PEFT's FourierFT draws
its positions — torch.randperm(n, generator=torch.Generator().manual_seed(seed)) — for a few
sizes (FourierFT's matrix sizes among them) and seeds: the whole permutation for small n, the
first 1000 entries for large n. Run by hand: /usr/bin/python3 scripts/timm/randperm_fixture.py"""
import json
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parents[2] / "test/fixtures/torch/randperm.json"
cases = []
for n, seed in [(1, 0), (2, 5), (10, 0), (10, 777), (1000, 777), (2 ** 16 + 3, 1), (768 * 768, 777), (3072 * 768, 2024), (192 * 192, 2 ** 40 + 7)]:
    p = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cases.append({"n": n, "seed": seed, "first": p[: min(n, 1000)].tolist()})
OUT.write_text(json.dumps({"torch": torch.__version__, "cases": cases}) + "\n")
print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")

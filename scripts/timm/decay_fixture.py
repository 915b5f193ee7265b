"""Write test/fixtures/timm/weight-decay.json: which tensors timm's own optimiser factory decays.

For each fixture ViT of make_fixtures.py (same architectures and model_args), every parameter
trainable (full fine-tuning): `timm.optim.create_optimizer_v2(model, "adamw", weight_decay=0.05)`,
which groups parameters with `param_groups_weight_decay` — no decay for 1-D tensors, biases and the
names in `model.no_weight_decay()` (pos_embed, cls_token, reg_token, dist_token) — read back from
the optimiser's own param_groups.

`lora`: the plain model as HF PEFT leaves it for LoRA r2 on `qkv` with the head trained — the
parameter layout of peft/tuners/lora/layer.py (each wrapped Linear keeps `base_layer` frozen and
gains `lora_A.default` [r, in] and `lora_B.default` [out, r], bias-free) and of
ModulesToSaveWrapper (`head.modules_to_save.default` trained, `head.original_module` frozen), under
PeftModel's `base_model.model.` prefix — grouped by the same timm factory. `fourierft`: the same
for FourierFT with 20 coefficients on `qkv` (peft/tuners/fourierft/layer.py: a 1-D
`fourierft_spectrum.default` beside the frozen `base_layer`). HF PEFT itself needs
`transformers`, which this machine lacks; only the names and shapes matter to timm's rule.

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/timm/decay_fixture.py
"""
import copy
import json
from pathlib import Path

import timm
import torch
from torch import nn
from timm.optim import create_optimizer_v2

from make_fixtures import ROOT, SMALL, VARIANTS


def groups(model):
    """timm's decision: {"decay": names, "noDecay": names} from create_optimizer_v2's param_groups."""
    names = {id(p): n for n, p in model.named_parameters()}
    optimizer = create_optimizer_v2(model, "adamw", lr=1e-3, weight_decay=0.05)
    out = {"decay": [], "noDecay": []}
    for g in optimizer.param_groups:
        out["decay" if g["weight_decay"] > 0 else "noDecay"] += [names[id(p)] for p in g["params"]]
    return {k: sorted(v) for k, v in out.items()}


class LoraLinear(nn.Module):
    """HF PEFT's parameter layout for a LoRA-wrapped nn.Linear (adapter "default")."""

    def __init__(self, base, r):
        super().__init__()
        self.base_layer = base
        self.lora_A = nn.ModuleDict({"default": nn.Linear(base.in_features, r, bias=False)})
        self.lora_B = nn.ModuleDict({"default": nn.Linear(r, base.out_features, bias=False)})


class FourierFTLinear(nn.Module):
    """HF PEFT's parameter layout for a FourierFT-wrapped nn.Linear: one spectrum vector per adapter."""

    def __init__(self, base, n):
        super().__init__()
        self.base_layer = base
        self.fourierft_spectrum = nn.ParameterDict({"default": nn.Parameter(torch.randn(n))})


class ModulesToSave(nn.Module):
    """HF PEFT's ModulesToSaveWrapper layout: the original frozen, a trained copy under "default"."""

    def __init__(self, module):
        super().__init__()
        self.original_module = module
        self.modules_to_save = nn.ModuleDict({"default": copy.deepcopy(module)})


class PeftModelLayout(nn.Module):
    """PeftModel's names: base_model.model.<timm name>."""

    def __init__(self, model):
        super().__init__()
        self.base_model = nn.Module()
        self.base_model.model = model


def adapted(arch, extra, wrap):
    """The model frozen, each qkv wrapped by `wrap`, the head trained as a module to save."""
    model = timm.create_model(arch, pretrained=False, **dict(SMALL, **extra))
    model.requires_grad_(False)
    for block in model.blocks:
        block.attn.qkv = wrap(block.attn.qkv)
    model.head = ModulesToSave(model.head)
    model.head.modules_to_save.requires_grad_(True)
    return PeftModelLayout(model)


def main():
    fixture = {name: groups(timm.create_model(arch, pretrained=False, **dict(SMALL, **extra))) for name, (arch, extra, _) in VARIANTS.items()}
    arch, extra, _ = VARIANTS["plain"]
    fixture["lora"] = groups(adapted(arch, extra, lambda qkv: LoraLinear(qkv, r=2)))
    fixture["fourierft"] = groups(adapted(arch, extra, lambda qkv: FourierFTLinear(qkv, n=20)))
    fixture["timm"] = timm.__version__
    path = ROOT / "weight-decay.json"
    path.write_text(json.dumps(fixture, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()

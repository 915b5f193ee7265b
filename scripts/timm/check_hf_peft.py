"""Check exported Hugging Face PEFT adapters and merged checkpoints against timm, by hand.

Builds the timm model that a run's config.json names, loads the base weights, applies the HF PEFT
adapter directory exactly as HF PEFT's layers do (src/peft/tuners/lora/layer.py:
W + (lora_alpha / r) * B @ A, rank_pattern / alpha_pattern by module name; fourierft/layer.py:
indices = torch.randperm(out * in, generator=torch.Generator().manual_seed(random_loc_seed))[:n],
W + ifft2(dense spectrum).real * scaling; modules_to_save replacing their modules) and compares its
logits on INPUT with LOGITS, what `peft forward --adapter` wrote. With --merged, also loads the
run's merged.safetensors through timm's own pretrained path and compares it with the same logits.

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/timm/check_hf_peft.py \\
        --config RUN/config.json --base BASE.safetensors --adapter HF_DIR --input X.safetensors --logits Y.safetensors [--merged RUN/merged.safetensors]
    PYTHONPATH=... /usr/bin/python3 scripts/timm/check_hf_peft.py --images N SIZE CHANNELS X.safetensors   # random NHWC inputs
"""
import argparse
import json
import re

import torch
import timm

from safetensors_io import load, save

PREFIX = "base_model.model."


def pattern_value(patterns, module, default):
    """HF PEFT's get_pattern_key: the first key matching the module name at a dotted suffix."""
    for key, value in (patterns or {}).items():
        if re.match(rf"(.*\.)?({key})$", module):
            return value
    return default


def build(config_path, classes):
    cfg = json.load(open(config_path))
    args = dict(cfg.get("model_args", {}), num_classes=classes)
    return cfg, timm.create_model(cfg["architecture"], pretrained=False, **args).eval()


def apply_hf_peft(model, adapter_dir):
    cfg = json.load(open(f"{adapter_dir}/adapter_config.json"))
    tensors = {k: v.float() for k, v in load(f"{adapter_dir}/adapter_model.safetensors").items()}
    modules = dict(model.named_modules())
    with torch.no_grad():
        for name in cfg["target_modules"]:
            layer = modules[name]
            w = layer.weight
            if cfg["peft_type"] == "LORA":
                a, b = tensors[f"{PREFIX}{name}.lora_A.weight"], tensors[f"{PREFIX}{name}.lora_B.weight"]
                r = pattern_value(cfg.get("rank_pattern"), name, cfg["r"])
                alpha = pattern_value(cfg.get("alpha_pattern"), name, cfg["lora_alpha"])
                scaling = alpha / (r ** 0.5 if cfg.get("use_rslora") else r)
                # Linear: B @ A; Conv2d: the 1×1 B after the k×k A, i.e. (B.flatten(1) @ A.flatten(1)) reshaped.
                w += (scaling * (b.flatten(1) @ a.flatten(1))).reshape(w.shape)
            else:
                spectrum = tensors[f"{PREFIX}{name}.fourierft_spectrum"]
                out_f, in_f = w.shape
                n = pattern_value(cfg.get("n_frequency_pattern"), name, cfg["n_frequency"])
                idx = torch.randperm(out_f * in_f, generator=torch.Generator().manual_seed(cfg["random_loc_seed"]))[:n]
                dense = torch.zeros(out_f, in_f)
                dense[idx // in_f, idx % in_f] = spectrum
                w += torch.fft.ifft2(dense).real * cfg["scaling"]
        for name in cfg.get("modules_to_save") or []:
            for pname, p in modules[name].named_parameters():
                p.copy_(tensors[f"{PREFIX}{name}.{pname}"])
    return cfg


def logits_of(model, images):
    with torch.no_grad():
        return model(images.permute(0, 3, 1, 2).contiguous())


def report(what, got, want):
    diff = (got - want).abs().max().item()
    rel = diff / want.abs().max().item()
    print(f"{what}: max |Δ| = {diff:.3e} ({rel:.3e} of the largest |logit|) over {tuple(want.shape)} logits")
    return diff


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--images", nargs=4, metavar=("N", "SIZE", "CHANNELS", "OUT"))
    p.add_argument("--config")
    p.add_argument("--base")
    p.add_argument("--adapter")
    p.add_argument("--input")
    p.add_argument("--logits")
    p.add_argument("--merged")
    a = p.parse_args()
    if a.images:
        n, size, channels, out = int(a.images[0]), int(a.images[1]), int(a.images[2]), a.images[3]
        save({"images": torch.randn((n, size, size, channels), generator=torch.Generator().manual_seed(0))}, out)
        return
    want = load(a.logits)["logits"]
    images = load(a.input)["images"]
    classes = want.shape[1]
    cfg, model = build(a.config, classes)
    base = {k: v.float() for k, v in load(a.base).items()}
    state = model.state_dict()
    # A reset head differs in shape; modules_to_save brings the trained one.
    model.load_state_dict({k: v for k, v in base.items() if k in state and v.shape == state[k].shape}, strict=False)
    adapter = apply_hf_peft(model, a.adapter)
    worst = report(f"HF PEFT {adapter['peft_type']} ({a.adapter}) applied to timm {cfg['architecture']}", logits_of(model, images), want)
    if a.merged:
        args = dict(cfg.get("model_args", {}), num_classes=classes)
        # The run's config.json carries the pretrained_cfg (num_classes among it: timm drops a head whose size differs from it).
        merged = timm.create_model(cfg["architecture"], pretrained=True, pretrained_cfg_overlay=dict(cfg["pretrained_cfg"], file=a.merged), **args).eval()
        worst = max(worst, report(f"timm.create_model({cfg['architecture']}, pretrained=True, file={a.merged})", logits_of(merged, images), want))
    print("ok" if worst <= 1e-4 * max(1.0, want.abs().max().item()) else "MISMATCH")


if __name__ == "__main__":
    main()

"""Write src/models/timmArchitectures.ts: timm's VisionTransformer architectures peft-dsl can run.

Each architecture is built by timm itself (on the meta device, no weights) and read back from the
module tree, so the table says what timm constructs, not what its names suggest. Architectures
with a part peft-dsl does not compute (attention pooling, qk-norm, SwiGLU, ...) are listed with
the reason. Run by hand with timm's source on PYTHONPATH:

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/timm/architectures.py
"""
import json
import re
import sys
from pathlib import Path

import torch
import timm
from timm.layers import LayerScale, Mlp, PatchEmbed, QuickGELU
from timm.layers.activations import GELUTanh
from timm.models.vision_transformer import Attention, Block, VisionTransformer

FAMILY = re.compile(r"^(vit_(tiny|small|base|large)_patch(14|16|32)_|deit3_)")
OUT = Path(__file__).resolve().parents[2] / "src/models/timmArchitectures.ts"


def identity(m):
    return isinstance(m, torch.nn.Identity)


def activation(block):
    act = block.mlp.act
    if isinstance(act, QuickGELU):
        return "quick"
    if isinstance(act, GELUTanh):
        return "tanh"
    if isinstance(act, torch.nn.GELU):
        return {"none": "erf", "tanh": "tanh"}[act.approximate]
    raise ValueError(f"activation {type(act).__name__}")


def read(name):
    """The peft-dsl config of a timm architecture, or ValueError naming the part it cannot run."""
    m = timm.create_model(name, pretrained=False, device="meta")
    if type(m) is not VisionTransformer:
        raise ValueError(f"model class {type(m).__name__}")
    if m.attn_pool is not None or m.global_pool not in ("token", "avg"):
        raise ValueError(f"global_pool {m.global_pool!r}")
    if m.pos_embed is None or m.dynamic_img_size or m.pool_include_prefix:
        raise ValueError("position embedding or pooling variant")
    if type(m.patch_embed) is not PatchEmbed or not identity(m.patch_embed.norm):
        raise ValueError("patch embedding variant")
    b0 = m.blocks[0]
    for b in m.blocks:
        if type(b) is not Block:
            raise ValueError(f"block {type(b).__name__}")
        if type(b.attn) is not Attention or type(b.mlp) is not Mlp:
            raise ValueError(f"attention {type(b.attn).__name__}, MLP {type(b.mlp).__name__}")
        if not (identity(b.attn.q_norm) and identity(b.attn.k_norm) and identity(b.attn.norm) and identity(b.mlp.norm)):
            raise ValueError("qk-norm or inner norm")
        if b.attn.proj.bias is None or b.mlp.fc1.bias is None:
            raise ValueError("a linear without bias")
    fc_norm = not identity(m.fc_norm)
    final = m.fc_norm if fc_norm else m.norm
    if identity(final):
        raise ValueError("final_norm=False")
    norms = [final, b0.norm1, b0.norm2] + ([] if identity(m.norm_pre) else [m.norm_pre])
    if not all(isinstance(n, torch.nn.LayerNorm) and n.elementwise_affine for n in norms) or len({n.eps for n in norms}) != 1:
        raise ValueError("norm layer variant")
    pre_norm = not identity(m.norm_pre)
    if (m.patch_embed.proj.bias is None) != pre_norm:
        raise ValueError("patch bias not tied to pre-norm")
    img, patch = m.patch_embed.img_size, m.patch_embed.patch_size
    if img[0] != img[1] or patch[0] != patch[1]:
        raise ValueError("non-square image or patch")
    width = m.embed_dim
    hidden = b0.mlp.fc1.out_features
    config = {
        "image": img[0], "channels": m.patch_embed.proj.in_channels, "patch": patch[0], "width": width,
        "depth": len(m.blocks), "heads": b0.attn.num_heads, "mlpRatio": hidden / width, "classes": m.num_classes,
        "layerNormEps": final.eps, "gelu": activation(b0),
    }
    options = {
        "qkvBias": b0.attn.qkv.bias is not None, "classToken": m.cls_token is not None, "regTokens": m.num_reg_tokens,
        "noEmbedClass": bool(m.no_embed_class), "preNorm": pre_norm, "layerScale": isinstance(b0.ls1, LayerScale),
        "pool": m.global_pool, "fcNorm": fc_norm,
    }
    defaults = {"qkvBias": True, "classToken": True, "regTokens": 0, "noEmbedClass": False, "preNorm": False, "layerScale": False, "pool": "token", "fcNorm": m.global_pool == "avg"}
    config.update({k: v for k, v in options.items() if v != defaults[k]})
    if config["mlpRatio"] == int(config["mlpRatio"]):
        config["mlpRatio"] = int(config["mlpRatio"])
    return config


def pretrained(tag):
    cfg = timm.models.get_pretrained_cfg(tag).to_dict()
    return {
        "classes": cfg["num_classes"], "mean": list(cfg["mean"]), "std": list(cfg["std"]),
        "inputSize": list(cfg["input_size"]), "interpolation": cfg["interpolation"], "cropPct": cfg["crop_pct"],
    }


def table(entries):
    """One entry a line: the file stays small and its diffs readable."""
    lines = [f"  {json.dumps(k)}: {json.dumps(v)}," for k, v in entries.items()]
    return "{\n" + "\n".join(lines) + "\n}"


def main():
    names = sorted(n for n in timm.list_models(module=["vision_transformer", "deit"]) if FAMILY.match(n))
    supported, unsupported, tags = {}, {}, {}
    for name in names:
        try:
            supported[name] = read(name)
        except ValueError as e:
            unsupported[name] = str(e)
            continue
        for tag in timm.list_pretrained(f"{name}.*"):
            tags[tag] = pretrained(tag)
    body = [
        "// Generated by scripts/timm/architectures.py from timm's own model definitions; do not edit.",
        f"// timm {timm.__version__}: {len(supported)} architectures, {len(tags)} pretrained tags, {len(unsupported)} not supported.",
        'import type { VitConfig } from "./vitConfig.js";',
        "",
        "/** What timm's pretrained_cfg says of a pretrained tag: its head, its preprocessing. */",
        "export interface PretrainedCfg {",
        "  readonly classes: number;",
        "  readonly mean: readonly number[];",
        "  readonly std: readonly number[];",
        "  readonly inputSize: readonly number[];",
        "  readonly interpolation: string;",
        "  readonly cropPct: number;",
        "  /** timm's crop_mode: \"center\" (its default) or \"squash\" (no crop: both sides to size / cropPct, then the centre). */",
        "  readonly cropMode?: string;",
        "}",
        "",
        "/** timm architecture name → its config at timm's defaults (image size, classes). */",
        f"export const timmArchitectures: Readonly<Record<string, VitConfig>> = {table(supported)};",
        "",
        "/** `architecture.tag` → its pretrained_cfg. */",
        f"export const timmPretrainedTags: Readonly<Record<string, PretrainedCfg>> = {table(tags)};",
        "",
        "/** VisionTransformer-family names whose structure peft-dsl does not compute, with the part that differs. */",
        f"export const timmUnsupported: Readonly<Record<string, string>> = {table(unsupported)};",
        "",
    ]
    OUT.write_text("\n".join(body))
    print(f"wrote {OUT}: {len(supported)} supported, {len(tags)} tags, {len(unsupported)} unsupported", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Write test/fixtures/timm/: small randomly initialised timm VisionTransformers, one per option
peft-dsl reads, each as a timm hub folder (config.json + model.safetensors) with the logits timm
computes on fixed inputs (io.safetensors: `images` NHWC, `logits`, `pre_logits`).

Every model is built by timm itself from an architecture name plus model_args (real structure,
small widths) and given random weights large enough that the outputs depend on the input. Also
writes `plain/google.npz`, the plain model in Google's original .npz layout, checked by loading it
back through timm's own `_load_weights`; `plain/io-24.safetensors` and `plain/io-12.safetensors`,
timm's logits after its checkpoint filter resamples the position embedding to 24² and 12² images.

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/timm/make_fixtures.py
    PYTHONPATH=... /usr/bin/python3 scripts/timm/make_fixtures.py --vit-b16 DIR   # a random ViT-B/16 hub folder (not committed)
"""
import argparse
import json
from pathlib import Path

import numpy as np
import torch
import timm
from timm.models.vision_transformer import _load_weights, checkpoint_filter_fn

from safetensors_io import save

ROOT = Path(__file__).resolve().parents[2] / "test/fixtures/timm"
SMALL = dict(img_size=16, patch_size=4, embed_dim=32, depth=2, num_heads=2, num_classes=5)

# name → (timm architecture, model_args beyond SMALL, stored dtype)
VARIANTS = {
    "plain": ("vit_base_patch16_224", {}, torch.float32),
    "no-qkv-bias": ("vit_base_patch16_224", dict(qkv_bias=False), torch.float16),
    "avg-fc-norm": ("vit_base_patch16_224", dict(class_token=False, global_pool="avg"), torch.bfloat16),
    "dinov2-reg": ("vit_small_patch14_reg4_dinov2", dict(reg_tokens=2), torch.float32),
    "deit3": ("deit3_small_patch16_224", {}, torch.float32),
    "clip-quickgelu": ("vit_base_patch16_clip_quickgelu_224", {}, torch.float32),
    "gelu-tanh": ("vit_base_patch16_224", dict(act_layer="gelu_tanh"), torch.float32),
    "token-fc-norm": ("vit_base_patch16_224", dict(fc_norm=True), torch.float32),
}


def randomise(model, seed):
    """Weights at a scale where every part matters: N(0, 0.3) everywhere, norms and layer scales near 1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("gamma") or (".norm" in name or name.startswith("norm") or "fc_norm" in name) and name.endswith("weight"):
                p.copy_(1 + 0.2 * noise)
            else:
                p.copy_(0.3 * noise)


def images(seed, n=3, size=16):
    g = torch.Generator().manual_seed(seed)
    return torch.randn((n, 3, size, size), generator=g)


def io(model, x):
    with torch.no_grad():
        feats = model.forward_features(x)
        pre = model.forward_head(feats, pre_logits=True)
        logits = model.forward_head(feats)
    return {"images": x.permute(0, 2, 3, 1).contiguous(), "logits": logits, "pre_logits": pre}


def hub_config(arch, args, model):
    cfg = model.pretrained_cfg
    return {
        "architecture": arch, "num_classes": model.num_classes, "num_features": model.num_features, "global_pool": model.global_pool,
        "model_args": args,
        "pretrained_cfg": {k: cfg[k] for k in ("input_size", "interpolation", "crop_pct", "mean", "std")} | {"input_size": [3, args["img_size"], args["img_size"]]},
    }


def write_variant(name, arch, extra, dtype, seed):
    args = dict(SMALL, **extra)
    model = timm.create_model(arch, pretrained=False, **args).eval()
    randomise(model, seed)
    # The stored weights are what timm computes with: round them to the stored dtype first.
    state = {k: v.to(dtype) for k, v in model.state_dict().items()}
    model.load_state_dict({k: v.float() for k, v in state.items()})
    out = ROOT / name
    out.mkdir(parents=True, exist_ok=True)
    save(state, out / "model.safetensors")
    (out / "config.json").write_text(json.dumps(hub_config(arch, args, model), indent=2) + "\n")
    save(io(model, images(seed)), out / "io.safetensors")
    return model, args


def google_npz(model, path):
    """The model in Google's original layout (the inverse of timm's _load_weights), verified by timm's own loader."""
    sd = {k: v.numpy() for k, v in model.state_dict().items()}
    w = model.embed_dim
    h = model.blocks[0].attn.num_heads
    arrays = {
        "cls": sd["cls_token"], "Transformer/posembed_input/pos_embedding": sd["pos_embed"],
        "embedding/kernel": sd["patch_embed.proj.weight"].transpose(2, 3, 1, 0), "embedding/bias": sd["patch_embed.proj.bias"],
        "Transformer/encoder_norm/scale": sd["norm.weight"], "Transformer/encoder_norm/bias": sd["norm.bias"],
        "head/kernel": sd["head.weight"].T, "head/bias": sd["head.bias"],
        # The removed representation layer of the original checkpoints: timm's loader ignores it.
        "pre_logits/kernel": np.zeros((w, w), np.float32), "pre_logits/bias": np.zeros(w, np.float32),
    }
    for i in range(len(model.blocks)):
        b, t = f"Transformer/encoderblock_{i}/", f"blocks.{i}."
        mha = b + "MultiHeadDotProductAttention_1/"
        arrays[b + "LayerNorm_0/scale"], arrays[b + "LayerNorm_0/bias"] = sd[t + "norm1.weight"], sd[t + "norm1.bias"]
        arrays[b + "LayerNorm_2/scale"], arrays[b + "LayerNorm_2/bias"] = sd[t + "norm2.weight"], sd[t + "norm2.bias"]
        qkv_w, qkv_b = sd[t + "attn.qkv.weight"], sd[t + "attn.qkv.bias"]
        for j, n in enumerate(("query", "key", "value")):
            arrays[mha + n + "/kernel"] = qkv_w[j * w:(j + 1) * w].T.reshape(w, h, w // h)
            arrays[mha + n + "/bias"] = qkv_b[j * w:(j + 1) * w].reshape(h, w // h)
        arrays[mha + "out/kernel"] = sd[t + "attn.proj.weight"].T.reshape(h, w // h, w)
        arrays[mha + "out/bias"] = sd[t + "attn.proj.bias"]
        for r in range(2):
            arrays[f"{b}MlpBlock_3/Dense_{r}/kernel"] = sd[f"{t}mlp.fc{r + 1}.weight"].T
            arrays[f"{b}MlpBlock_3/Dense_{r}/bias"] = sd[f"{t}mlp.fc{r + 1}.bias"]
    np.savez_compressed(path, **arrays)
    check = timm.create_model("vit_base_patch16_224", pretrained=False, **SMALL)
    with torch.no_grad():
        _load_weights(check, str(path))
    for k, v in model.state_dict().items():
        assert torch.equal(check.state_dict()[k], v), f"timm's _load_weights gives another {k}"


def resampled_io(model, args, size, seed):
    """timm's logits after its checkpoint filter resamples the position embedding to `size`²."""
    at = timm.create_model("vit_base_patch16_224", pretrained=False, **dict(args, img_size=size)).eval()
    at.load_state_dict(checkpoint_filter_fn(model.state_dict(), at))
    return io(at, images(seed, size=size))


def vit_b16(directory):
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    model = timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=0)
    save(model.state_dict(), out / "model.safetensors")
    cfg = model.pretrained_cfg
    (out / "config.json").write_text(json.dumps({
        "architecture": "vit_base_patch16_224", "num_classes": 0, "num_features": 768, "global_pool": "token",
        "pretrained_cfg": {k: cfg[k] for k in ("input_size", "interpolation", "crop_pct", "mean", "std")},
    }, indent=2) + "\n")
    print(f"wrote {out}: {sum(p.numel() for p in model.parameters()):,} parameters")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vit-b16", metavar="DIR", help="write a random ViT-B/16 (224², no head) hub folder to DIR instead")
    a = parser.parse_args()
    if a.vit_b16:
        return vit_b16(a.vit_b16)
    for i, (name, (arch, extra, dtype)) in enumerate(VARIANTS.items()):
        model, args = write_variant(name, arch, extra, dtype, seed=i)
        if name == "plain":
            google_npz(model, ROOT / name / "google.npz")
            for size in (24, 12):
                save(resampled_io(model, args, size, seed=i), ROOT / name / f"io-{size}.safetensors")
    total = sum(f.stat().st_size for f in ROOT.rglob("*") if f.is_file())
    print(f"wrote {ROOT}: {len(VARIANTS)} variants, {total:,} bytes")


if __name__ == "__main__":
    main()

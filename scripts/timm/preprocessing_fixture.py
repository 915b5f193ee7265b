"""Write test/fixtures/timm-preprocessing/: a few small PNG images and what timm's own evaluation
transform makes of them (`resolve_data_config` on a pretrained_cfg, then `create_transform`), so
that peft-dsl's image pipeline (decode, resize, crop, per-channel mean and std, channel order) is
checked against timm rather than against itself.

The images are drawn from a fixed seed: coloured blocks (each channel different, so a channel
mix-up shows) over a fine texture (so a crop one pixel off shows), at sizes whose resizes and
crops land on fractional pixels. Each is transformed under two pretrained configs with a
different mean and std per channel: "center" (timm's default crop mode: the shorter side to
size / crop_pct, bicubic, then the centre size × size) and "squash" (crop_pct 1: both sides to
the size). `expected.safetensors` holds `<config>/<image>` as [size, size, 3] float32 (HWC, as
peft-dsl lays images out); its metadata `configs` holds the pretrained configs as timm read them.

    PYTHONPATH=/path/to/pytorch-image-models /usr/bin/python3 scripts/timm/preprocessing_fixture.py
"""
import json
from pathlib import Path

import numpy as np
from PIL import Image
import timm
from timm.data import create_transform, resolve_data_config

from safetensors_io import save

OUT = Path(__file__).resolve().parents[2] / "test/fixtures/timm-preprocessing"
SIZE = 16
MEAN = (0.2, 0.5, 0.7)
STD = (0.3, 0.15, 0.6)
CONFIGS = {
    "center": dict(input_size=(3, SIZE, SIZE), interpolation="bicubic", crop_pct=0.8, crop_mode="center", mean=MEAN, std=STD),
    "squash": dict(input_size=(3, SIZE, SIZE), interpolation="bicubic", crop_pct=1.0, crop_mode="squash", mean=MEAN, std=STD),
}
# name -> (width, height)
IMAGES = {"wide": (37, 29), "tall": (23, 41), "square": (50, 50)}


def picture(width, height, rng):
    """Blocks of 5 × 5 pixels, a random colour each, plus a texture of ±24 levels per pixel."""
    blocks = rng.integers(0, 256, size=((height + 4) // 5, (width + 4) // 5, 3))
    base = np.repeat(np.repeat(blocks, 5, axis=0), 5, axis=1)[:height, :width]
    texture = rng.integers(-24, 25, size=(height, width, 3))
    return np.clip(base + texture, 0, 255).astype(np.uint8)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, (w, h) in IMAGES.items():
        Image.fromarray(picture(w, h, rng), "RGB").save(OUT / f"{name}.png")
    tensors, resolved = {}, {}
    for cname, cfg in CONFIGS.items():
        data_config = resolve_data_config(pretrained_cfg=cfg)
        resolved[cname] = {k: list(v) if isinstance(v, tuple) else v for k, v in data_config.items()}
        transform = create_transform(**data_config, is_training=False)
        for name in IMAGES:
            with Image.open(OUT / f"{name}.png") as image:
                x = transform(image.convert("RGB"))
            tensors[f"{cname}/{name}"] = x.permute(1, 2, 0).contiguous()
    save(tensors, OUT / "expected.safetensors", metadata={"configs": json.dumps(resolved), "timm": timm.__version__})
    print(f"wrote {len(IMAGES)} images and {len(tensors)} transformed tensors to {OUT}")


if __name__ == "__main__":
    main()

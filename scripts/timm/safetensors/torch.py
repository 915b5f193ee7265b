"""`safetensors.torch.load_file`, as timm's `load_state_dict` calls it, on the minimal reader."""
from safetensors_io import load


def load_file(path, device="cpu"):
    return {k: v.to(device) for k, v in load(str(path)).items()}

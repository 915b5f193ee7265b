"""A stand-in for the `safetensors` package (not in Debian, and PyPI is out of reach here) so that
timm's own pretrained loader can read .safetensors files; only `safetensors.torch.load_file`."""

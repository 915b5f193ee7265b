#!/usr/bin/env bash
# Rebuild the committed WebAssembly kernels (Debian: apt-get install clang lld).
set -euo pipefail
cd "$(dirname "$0")"
for kernel in batchMatMul gelu layerNorm permute; do
  clang --target=wasm32 -O3 -msimd128 -mbulk-memory -nostdlib -Wl,--no-entry -Wl,--export=__heap_base -o "$kernel.wasm" "$kernel.c"
  ls -l "$kernel.wasm"
done

#!/usr/bin/env bash
# Rebuild the committed WebAssembly kernels (Debian: apt-get install clang lld). They import a
# shared memory (tfjs's threaded heap, or their own) and must not use the shadow stack: two
# threads run one module over one memory (src/ops/kernelHelper.ts; test/ops/kernelHelper.test.ts).
set -euo pipefail
cd "$(dirname "$0")"
for kernel in batchMatMul gelu layerNorm permute; do
  clang --target=wasm32 -O3 -msimd128 -mbulk-memory -matomics -nostdlib -Wl,--no-entry -Wl,--export=__heap_base -Wl,--import-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 -o "$kernel.wasm" "$kernel.c"
  ls -l "$kernel.wasm"
done

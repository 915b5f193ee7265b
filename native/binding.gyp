# Built by `npm ci` (scripts/buildNative.mjs) on the machine that runs it. `march` is x86-64-v3
# (AVX2, FMA) on every x86-64 CPU that has it, so the kernels sum in the same order on all of
# them (AVX-512 or not, Intel or AMD); `native` elsewhere, or when PEFT_MARCH=native asks for it.
# The float options let the loops and sums vectorise; NaN and infinity keep their meaning.
{
  "variables": { "march%": "native" },
  "targets": [
    {
      "target_name": "peft_native",
      "sources": ["addon.c", "blas.c", "gelu.c", "layerNorm.c", "transpose.c", "spectral.c", "attention.c"],
      "defines": ["PEFT_MARCH=\"<(march)\""],
      "cflags": ["-O3", "-march=<(march)", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}

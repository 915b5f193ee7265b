# Built by `npm ci` (scripts/buildNative.mjs) on the machine that runs it, hence -march=native.
# The float options let the loops and sums vectorise; NaN and infinity keep their meaning.
{
  "targets": [
    {
      "target_name": "peft_native",
      "sources": ["addon.c", "blas.c", "gelu.c", "layerNorm.c", "transpose.c", "spectral.c", "attention.c"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}

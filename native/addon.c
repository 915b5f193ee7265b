/* The peft-dsl native addon: kernels that work in place on tfjs-wasm's heap (see each file). */
#include <node_api.h>

napi_value BlasLoad(napi_env, napi_callback_info);
napi_value BlasMatmul(napi_env, napi_callback_info);
napi_value BlasGemm(napi_env, napi_callback_info);
napi_value Gelu(napi_env, napi_callback_info);
napi_value GeluGrad(napi_env, napi_callback_info);
napi_value LayerNorm(napi_env, napi_callback_info);
napi_value LayerNormGrad(napi_env, napi_callback_info);
napi_value Permute(napi_env, napi_callback_info);
napi_value Attention(napi_env, napi_callback_info);
napi_value AttentionGrad(napi_env, napi_callback_info);
napi_value SpectralRows(napi_env, napi_callback_info);
napi_value SpectralRowsGrad(napi_env, napi_callback_info);

/* The -march the kernels were compiled for (binding.gyp's `march`): a fixed one gives the same sums on every CPU that runs it. */
static napi_value March(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  napi_create_string_utf8(env, PEFT_MARCH, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor functions[] = {
      {"march", NULL, March, NULL, NULL, NULL, napi_default, NULL},
      {"blasLoad", NULL, BlasLoad, NULL, NULL, NULL, napi_default, NULL},
      {"matmul", NULL, BlasMatmul, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, BlasGemm, NULL, NULL, NULL, napi_default, NULL},
      {"gelu", NULL, Gelu, NULL, NULL, NULL, napi_default, NULL},
      {"geluGrad", NULL, GeluGrad, NULL, NULL, NULL, napi_default, NULL},
      {"layerNorm", NULL, LayerNorm, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormGrad", NULL, LayerNormGrad, NULL, NULL, NULL, napi_default, NULL},
      {"permute", NULL, Permute, NULL, NULL, NULL, napi_default, NULL},
      {"attention", NULL, Attention, NULL, NULL, NULL, napi_default, NULL},
      {"attentionGrad", NULL, AttentionGrad, NULL, NULL, NULL, napi_default, NULL},
      {"spectralRows", NULL, SpectralRows, NULL, NULL, NULL, napi_default, NULL},
      {"spectralRowsGrad", NULL, SpectralRowsGrad, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof functions / sizeof functions[0], functions);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

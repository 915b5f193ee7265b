/*
 * LayerNorm over the last axis of [rows, d] and its gradient in place on tfjs-wasm's heap, the
 * formulas of kernels/layerNorm.c: y = x̂ γ + β, x̂ = (x − μ) / √(σ² + ε) with the biased
 * variance (timm); with g = dy γ, dx = (g − mean(g) − x̂ mean(g x̂)) / √(σ² + ε),
 * dγ = Σ_rows dy x̂, dβ = Σ_rows dy. At this CPU's vector width.
 */
#include "heap.h"

/* μ and 1/√(σ² + ε) of one row, two passes as tf.moments does. */
static void moments(const float* restrict x, int d, float eps, float* mean, float* rstd) {
  float sum = 0.0f;
  for (int j = 0; j < d; j++) sum += x[j];
  const float m = sum / (float)d;
  float sq = 0.0f;
  for (int j = 0; j < d; j++) sq += (x[j] - m) * (x[j] - m);
  *mean = m;
  *rstd = 1.0f / __builtin_sqrtf(sq / (float)d + eps);
}

static void forward(const float* restrict x, const float* restrict gamma, const float* restrict beta, float* restrict y, int rows, int d, float eps) {
  for (int i = 0; i < rows; i++, x += d, y += d) {
    float mean, rstd;
    moments(x, d, eps, &mean, &rstd);
    for (int j = 0; j < d; j++) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

static void backward(const float* restrict x, const float* restrict gamma, const float* restrict dy, float* restrict dx, float* restrict dgamma,
                     float* restrict dbeta, int rows, int d, float eps) {
  for (int j = 0; j < d; j++) dgamma[j] = dbeta[j] = 0.0f;
  for (int i = 0; i < rows; i++, x += d, dy += d, dx += d) {
    float mean, rstd;
    moments(x, d, eps, &mean, &rstd);
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int j = 0; j < d; j++) {
      const float xhat = (x[j] - mean) * rstd;
      const float g = dy[j] * gamma[j];
      g_sum += g;
      gx_sum += g * xhat;
      dgamma[j] += dy[j] * xhat;
      dbeta[j] += dy[j];
    }
    const float g_mean = g_sum / (float)d, gx_mean = gx_sum / (float)d;
    for (int j = 0; j < d; j++) dx[j] = (dy[j] * gamma[j] - g_mean - (x[j] - mean) * rstd * gx_mean) * rstd;
  }
}

/* The shared arguments: heap, `buffers` byte offsets, rows, d, eps; false with an error thrown. */
static bool read_args(napi_env env, napi_callback_info info, int buffers, float** heap, int64_t* v, float* eps, const int64_t* rowSized) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t floats;
  double e;
  if (argc != (size_t)buffers + 4 || !heap_of(env, argv[0], heap, &floats) || !integers(env, argv, 1, buffers + 2, v) ||
      napi_get_value_double(env, argv[buffers + 3], &e) != napi_ok || !(e >= 0)) {
    fail(env, "layerNorm: expected a Float32Array heap, byte offsets, rows, d and eps");
    return false;
  }
  const int64_t rows = v[buffers], d = v[buffers + 1];
  bool ok = d >= 1 && rows * d <= INT32_MAX;
  for (int i = 0; i < buffers; i++) ok = ok && inside(v[i], rowSized[i] ? rows * d : d, floats);
  if (!ok) {
    fail(env, "layerNorm: the operands do not lie inside the heap");
    return false;
  }
  *eps = (float)e;
  return true;
}

/* layerNorm(heap, x, gamma, beta, y, rows, d, eps). */
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  float* h;
  int64_t v[6];
  float eps;
  static const int64_t rowSized[] = {1, 0, 0, 1};
  if (!read_args(env, info, 4, &h, v, &eps, rowSized)) return NULL;
  forward(h + v[0] / 4, h + v[1] / 4, h + v[2] / 4, h + v[3] / 4, (int)v[4], (int)v[5], eps);
  return NULL;
}

/* layerNormGrad(heap, x, gamma, dy, dx, dgamma, dbeta, rows, d, eps). */
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  float* h;
  int64_t v[8];
  float eps;
  static const int64_t rowSized[] = {1, 0, 1, 1, 0, 0};
  if (!read_args(env, info, 6, &h, v, &eps, rowSized)) return NULL;
  backward(h + v[0] / 4, h + v[1] / 4, h + v[2] / 4, h + v[3] / 4, h + v[4] / 4, h + v[5] / 4, (int)v[6], (int)v[7], eps);
  return NULL;
}

// LayerNorm over the last axis of [rows, d] and its gradient for tfjs's wasm backend, fused:
// tfjs composes them from a dozen mean, subtract, multiply and sum kernels, each a pass over the
// activations. y = x̂ γ + β, x̂ = (x − μ) / √(σ² + ε) with the biased variance (timm). Backward,
// with g = dy γ: dx = (g − mean(g) − x̂ mean(g x̂)) / √(σ² + ε), dγ = Σ_rows dy x̂, dβ = Σ_rows dy.
// Build: kernels/build.sh.

#define EXPORT(name) __attribute__((export_name(name)))

/** μ and 1/√(σ² + ε) of one row, two passes as tf.moments does. */
static void moments(const float* x, int d, float eps, float* mean, float* rstd) {
  float sum = 0.0f;
  for (int j = 0; j < d; j++) sum += x[j];
  float m = sum / (float)d;
  float sq = 0.0f;
  for (int j = 0; j < d; j++) sq += (x[j] - m) * (x[j] - m);
  *mean = m;
  *rstd = 1.0f / __builtin_sqrtf(sq / (float)d + eps);
}

EXPORT("layer_norm_forward")
void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, int rows, int d, float eps) {
  for (int i = 0; i < rows; i++, x += d, y += d) {
    float mean, rstd;
    moments(x, d, eps, &mean, &rstd);
    for (int j = 0; j < d; j++) y[j] = (x[j] - mean) * rstd * gamma[j] + beta[j];
  }
}

EXPORT("layer_norm_backward")
void layer_norm_backward(const float* x, const float* gamma, const float* dy, float* dx, float* dgamma, float* dbeta, int rows, int d, float eps) {
  for (int j = 0; j < d; j++) dgamma[j] = dbeta[j] = 0.0f;
  for (int i = 0; i < rows; i++, x += d, dy += d, dx += d) {
    float mean, rstd;
    moments(x, d, eps, &mean, &rstd);
    float g_sum = 0.0f, gx_sum = 0.0f;
    for (int j = 0; j < d; j++) {
      float xhat = (x[j] - mean) * rstd;
      float g = dy[j] * gamma[j];
      g_sum += g;
      gx_sum += g * xhat;
      dgamma[j] += dy[j] * xhat;
      dbeta[j] += dy[j];
    }
    float g_mean = g_sum / (float)d, gx_mean = gx_sum / (float)d;
    for (int j = 0; j < d; j++) dx[j] = (dy[j] * gamma[j] - g_mean - (x[j] - mean) * rstd * gx_mean) * rstd;
  }
}

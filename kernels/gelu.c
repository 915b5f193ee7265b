// Exact GELU and its derivative for tfjs's wasm backend, fused: tfjs composes them from erf, exp
// and multiplies, a sixth of a ViT train step on wasm. y = x Φ(x), dy/dx = Φ(x) + x φ(x),
// Φ(x) = ½(1 + erf(x/√2)), φ(x) = e^{−x²/2}/√(2π); erf by Abramowitz & Stegun 7.1.26 (absolute
// error ≤ 1.5e-7), exp by range reduction and a degree-6 polynomial.
// Build: kernels/build.sh.

#define EXPORT(name) __attribute__((export_name(name)))

static float exp_f(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) x = 88.0f;
  // x = k ln2 + r, |r| ≤ ln2/2; e^x = 2^k e^r.
  float kf = __builtin_floorf(x * 1.44269504f + 0.5f);
  float r = x - kf * 0.693145751953125f - kf * 1.428606765330187e-06f;
  float p = 1.0f + r * (1.0f + r * (0.5f + r * (0.16666667f + r * (0.041666668f + r * (0.008333334f + r * 0.0013888889f)))));
  union { float f; int i; } scale = { .i = ((int)kf + 127) << 23 };
  return p * scale.f;
}

// Φ(x) from e = e^{−x²/2}, which erf's formula needs as e^{−z²}, z = x/√2, and φ(x) is e/√(2π):
// the backward pass computes the exponential once for both.
static float phi_cdf(float x, float e) {
  float z = x * 0.70710678f;
  float a = z < 0 ? -z : z;
  float t = 1.0f / (1.0f + 0.3275911f * a);
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  float erf_a = 1.0f - poly * e;
  return 0.5f * (1.0f + (z < 0 ? -erf_a : erf_a));
}

EXPORT("gelu_forward")
void gelu_forward(const float* x, float* y, int n) {
  for (int i = 0; i < n; i++) y[i] = x[i] * phi_cdf(x[i], exp_f(-0.5f * x[i] * x[i]));
}

EXPORT("gelu_backward")
void gelu_backward(const float* x, const float* dy, float* dx, int n) {
  for (int i = 0; i < n; i++) {
    float v = x[i];
    float e = exp_f(-0.5f * v * v);
    dx[i] = dy[i] * (phi_cdf(v, e) + v * 0.39894228f * e);
  }
}

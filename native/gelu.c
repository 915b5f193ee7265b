/*
 * Exact GELU and its derivative in place on tfjs-wasm's heap, the numerics of kernels/gelu.c
 * (y = x Φ(x), dy/dx = Φ(x) + x φ(x); erf by Abramowitz & Stegun 7.1.26, exp by range reduction
 * and a degree-6 polynomial), at this CPU's vector width.
 */
#include "fastExp.h"
#include "heap.h"
#include "split.h"

// Φ(x) from e = e^{−x²/2}, which erf's formula needs as e^{−z²}, z = x/√2.
static inline float normal_cdf(float x, float e) {
  float z = x * 0.70710678f;
  float t = 1.0f / (1.0f + 0.3275911f * __builtin_fabsf(z));
  float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  return 0.5f * (1.0f + __builtin_copysignf(1.0f - poly * e, z));
}

// The loops take restrict pointers and an int count, so GCC vectorises them.
static void forward(const float* restrict x, float* restrict y, int n) {
  for (int i = 0; i < n; i++) y[i] = x[i] * normal_cdf(x[i], exp_f(-0.5f * x[i] * x[i]));
}

static void backward(const float* restrict x, const float* restrict dy, float* restrict dx, int n) {
  for (int i = 0; i < n; i++) {
    float e = exp_f(-0.5f * x[i] * x[i]);
    dx[i] = dy[i] * (normal_cdf(x[i], e) + x[i] * 0.39894228f * e);
  }
  // exp_f holds e at e^−87 far out, which x φ(x) at a huge x lifts to ~1 (1e38 × e^−87): beyond
  // |x| = 1e4, where Φ is 0 or 1 and φ 0 to float32, the derivative is Φ's (a loop of its own,
  // so the one above compiles, and rounds, as it did).
  for (int i = 0; i < n; i++) dx[i] = x[i] > 1e4f ? dy[i] : x[i] < -1e4f ? 0.0f : dx[i];
}

typedef struct {
  const float *x, *dy;
  float* out;
} Operands;

static void forwardRange(void* context, int64_t from, int64_t to) {
  const Operands* o = (const Operands*)context;
  forward(o->x + from, o->out + from, (int)(to - from));
}

static void backwardRange(void* context, int64_t from, int64_t to) {
  const Operands* o = (const Operands*)context;
  backward(o->x + from, o->dy + from, o->out + from, (int)(to - from));
}

/* Elements from which a call is shared among threads: below, starting one costs more than half the work. */
enum { SharedFrom = 1 << 17 };

/* gelu(heap, x, y, n, threads) and geluGrad(heap, x, dy, dx, n, threads): byte offsets into heap, n elements. */
static napi_value run(napi_env env, napi_callback_info info, int buffers) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float* heap;
  size_t floats;
  int64_t v[5];
  if (argc != (size_t)buffers + 3 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, buffers + 2, v))
    return fail(env, "gelu: expected a Float32Array heap, byte offsets, a count and a thread count");
  const int64_t n = v[buffers], threads = n >= SharedFrom ? v[buffers + 1] : 1;
  if (n > INT32_MAX) return fail(env, "gelu: more than 2^31 - 1 elements");
  for (int i = 0; i < buffers; i++)
    if (!inside(v[i], n, floats)) return fail(env, "gelu: the operands do not lie inside the heap");
  Operands o = {heap + v[0] / 4, buffers == 3 ? heap + v[1] / 4 : NULL, heap + v[buffers - 1] / 4};
  split_range(buffers == 2 ? forwardRange : backwardRange, &o, n, threads, 16);
  return NULL;
}

napi_value Gelu(napi_env env, napi_callback_info info) { return run(env, info, 2); }
napi_value GeluGrad(napi_env env, napi_callback_info info) { return run(env, info, 3); }

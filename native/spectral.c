/*
 * A sparse spectrum's 2-D inverse DFT by rows, in place on tfjs-wasm's heap (FourierFT's and
 * S²FT's ΔW): with L coefficients the row transforms are L·n terms, so only the column transform
 * stays dense, an [m, 2m] × [2m, n] product the caller runs through the BLAS.
 */
#include <string.h>
#include "heap.h"

/*
 * The arguments both calls share: heap, byte offsets of (first, positions, table, second), L, m,
 * n. The first and second operands span `first` and `second` floats (given L, m, n), the table
 * [Cn; Sn] 2n × n; every position must lie in the m × n spectrum. Nothing is touched when a
 * check fails.
 */
static const char* arguments(napi_env env, napi_callback_info info, bool forward, float** heap, int64_t v[7]) {
  size_t argc = 8;
  napi_value argv[8];
  size_t floats;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 8 || !heap_of(env, argv[0], heap, &floats) || !integers(env, argv, 1, 7, v))
    return "spectral: expected a Float32Array heap, four byte offsets, a count and a shape";
  const int64_t count = v[4], m = v[5], n = v[6];
  const int64_t first = forward ? count : 2 * m * n, second = forward ? 2 * m * n : count;
  if (m < 1 || n < 1 || !inside(v[0], first, floats) || !inside(v[1], count, floats) || !inside(v[2], 2 * n * n, floats) || !inside(v[3], second, floats))
    return "spectral: the operands do not lie inside the heap";
  const int32_t* positions = (const int32_t*)(*heap) + v[1] / 4;
  for (int64_t l = 0; l < count; l++)
    if (positions[l] < 0 || positions[l] >= m * n) return "spectral: a position lies outside the m × n spectrum";
  return NULL;
}

/*
 * spectralRows(heap, c, p, table, t, L, m, n): t [2m, n] holds [Re; Im] of T[u, k] = Σ_{l: u_l = u}
 * c_l e^{2πi v_l k/n}, where position p_l = u_l·n + v_l (int32) and table = [Cn; Sn] with
 * Cn[v, k] = cos(2π vk/n); so Re(IDFT2(S)) = [Cm | −Sm] t / (m·n). Each coefficient adds a row of
 * the table to a row of t (a vector loop).
 */
napi_value SpectralRows(napi_env env, napi_callback_info info) {
  float* heap;
  int64_t v[7];
  const char* why = arguments(env, info, true, &heap, v);
  if (why != NULL) return fail(env, why);
  const int64_t count = v[4], m = v[5], n = v[6];
  const float* c = heap + v[0] / 4;
  const int32_t* p = (const int32_t*)heap + v[1] / 4;
  const float* table = heap + v[2] / 4;
  float* t = heap + v[3] / 4;
  memset(t, 0, sizeof(float) * (size_t)(2 * m * n));
  for (int64_t l = 0; l < count; l++) {
    const int64_t u = p[l] / n, vv = p[l] % n;
    float* restrict re = t + u * n;
    float* restrict im = t + (m + u) * n;
    const float* restrict cosines = table + vv * n;
    const float* restrict sines = table + (n + vv) * n;
    const float coefficient = c[l];
    for (int64_t k = 0; k < n; k++) {
      re[k] += coefficient * cosines[k];
      im[k] += coefficient * sines[k];
    }
  }
  return NULL;
}

/*
 * spectralRowsGrad(heap, a, p, table, dc, L, m, n): dc_l = Σ_k a[u_l, k] Cn[v_l, k] + a[m + u_l, k]
 * Sn[v_l, k] for a = [Cm | −Sm]ᵀ dY / (m·n) [2m, n]: the gradient at the L positions alone.
 */
napi_value SpectralRowsGrad(napi_env env, napi_callback_info info) {
  float* heap;
  int64_t v[7];
  const char* why = arguments(env, info, false, &heap, v);
  if (why != NULL) return fail(env, why);
  const int64_t count = v[4], m = v[5], n = v[6];
  const float* a = heap + v[0] / 4;
  const int32_t* p = (const int32_t*)heap + v[1] / 4;
  const float* table = heap + v[2] / 4;
  float* dc = heap + v[3] / 4;
  for (int64_t l = 0; l < count; l++) {
    const int64_t u = p[l] / n, vv = p[l] % n;
    const float* restrict re = a + u * n;
    const float* restrict im = a + (m + u) * n;
    const float* restrict cosines = table + vv * n;
    const float* restrict sines = table + (n + vv) * n;
    float sum = 0;
    for (int64_t k = 0; k < n; k++) sum += re[k] * cosines[k] + im[k] * sines[k];
    dc[l] = sum;
  }
  return NULL;
}

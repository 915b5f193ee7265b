/*
 * A sparse spectrum's 2-D inverse DFT by rows, in place on tfjs-wasm's heap (FourierFT's and
 * S²FT's ΔW): with L coefficients the row transforms are L·n terms, so only the column transform
 * stays dense, an [m, 2m] × [2m, n] product the caller runs through the BLAS.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "heap.h"

/* cos and sin of 2π t/n for t < n, each in float64 first (the angle reduced before rounding). */
static bool tables(int64_t n, float** cosines, float** sines) {
  *cosines = malloc(sizeof(float) * (size_t)n);
  *sines = malloc(sizeof(float) * (size_t)n);
  if (*cosines == NULL || *sines == NULL) {
    free(*cosines);
    free(*sines);
    return false;
  }
  for (int64_t t = 0; t < n; t++) {
    (*cosines)[t] = (float)cos(2 * M_PI * (double)t / (double)n);
    (*sines)[t] = (float)sin(2 * M_PI * (double)t / (double)n);
  }
  return true;
}

/*
 * The arguments both calls share: heap, byte offsets of (first, positions, second), L, m, n. The
 * first and second operands span `first` and `second` floats (given L, m, n); every position must
 * lie in the m × n spectrum. Nothing is touched when a check fails.
 */
static const char* arguments(napi_env env, napi_callback_info info, bool forward, float** heap, int64_t v[6]) {
  size_t argc = 7;
  napi_value argv[7];
  size_t floats;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc != 7 || !heap_of(env, argv[0], heap, &floats) || !integers(env, argv, 1, 6, v))
    return "spectral: expected a Float32Array heap, three byte offsets, a count and a shape";
  const int64_t count = v[3], m = v[4], n = v[5];
  const int64_t first = forward ? count : 2 * m * n, second = forward ? 2 * m * n : count;
  if (m < 1 || n < 1 || !inside(v[0], first, floats) || !inside(v[1], count, floats) || !inside(v[2], second, floats))
    return "spectral: the operands do not lie inside the heap";
  const int32_t* positions = (const int32_t*)(*heap) + v[1] / 4;
  for (int64_t l = 0; l < count; l++)
    if (positions[l] < 0 || positions[l] >= m * n) return "spectral: a position lies outside the m × n spectrum";
  return NULL;
}

/*
 * spectralRows(heap, c, p, t, L, m, n): t [2m, n] holds [Re; Im] of T[u, k] = Σ_{l: u_l = u}
 * c_l e^{2πi v_l k/n}, where position p_l = u_l·n + v_l (int32); so Re(IDFT2(S)) = [Cm | −Sm] t / (m·n).
 */
napi_value SpectralRows(napi_env env, napi_callback_info info) {
  float* heap;
  int64_t v[6];
  const char* why = arguments(env, info, true, &heap, v);
  if (why != NULL) return fail(env, why);
  const int64_t count = v[3], m = v[4], n = v[5];
  const float* c = heap + v[0] / 4;
  const int32_t* p = (const int32_t*)heap + v[1] / 4;
  float* t = heap + v[2] / 4;
  float *cosines, *sines;
  if (!tables(n, &cosines, &sines)) return fail(env, "spectralRows: out of memory");
  memset(t, 0, sizeof(float) * (size_t)(2 * m * n));
  for (int64_t l = 0; l < count; l++) {
    const int64_t u = p[l] / n, step = p[l] % n;
    float* re = t + u * n;
    float* im = t + (m + u) * n;
    for (int64_t k = 0, at = 0; k < n; k++, at = at + step >= n ? at + step - n : at + step) {
      re[k] += c[l] * cosines[at];
      im[k] += c[l] * sines[at];
    }
  }
  free(cosines);
  free(sines);
  return NULL;
}

/*
 * spectralRowsGrad(heap, a, p, dc, L, m, n): dc_l = Σ_k a[u_l, k] cos(2π v_l k/n) + a[m + u_l, k]
 * sin(2π v_l k/n) for a = [Cm | −Sm]ᵀ dY / (m·n) [2m, n]: the gradient at the L positions alone.
 */
napi_value SpectralRowsGrad(napi_env env, napi_callback_info info) {
  float* heap;
  int64_t v[6];
  const char* why = arguments(env, info, false, &heap, v);
  if (why != NULL) return fail(env, why);
  const int64_t count = v[3], m = v[4], n = v[5];
  const float* a = heap + v[0] / 4;
  const int32_t* p = (const int32_t*)heap + v[1] / 4;
  float* dc = heap + v[2] / 4;
  float *cosines, *sines;
  if (!tables(n, &cosines, &sines)) return fail(env, "spectralRowsGrad: out of memory");
  for (int64_t l = 0; l < count; l++) {
    const int64_t u = p[l] / n, step = p[l] % n;
    const float* re = a + u * n;
    const float* im = a + (m + u) * n;
    float sum = 0;
    for (int64_t k = 0, at = 0; k < n; k++, at = at + step >= n ? at + step - n : at + step) sum += re[k] * cosines[at] + im[k] * sines[at];
    dc[l] = sum;
  }
  free(cosines);
  free(sines);
  return NULL;
}

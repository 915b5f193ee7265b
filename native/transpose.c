/*
 * Axis permutations of 4-byte elements in place on tfjs-wasm's heap, for permutations that keep
 * the last axis last (attention's head split and merge): each run along that axis is one memcpy.
 * tfjs-wasm's own Transpose is element by element, and past rank 4 it is ~500× slower.
 */
#include <string.h>
#include "heap.h"

enum { MostAxes = 8 };

/* permute(heap, x, y, shape, perm): y = x with axes permuted (y's axis i is x's axis perm[i]); shape and perm are arrays. */
napi_value Permute(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float* heap;
  size_t floats;
  int64_t at[2];
  uint32_t rank, permRank;
  if (argc != 5 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, 2, at) || napi_get_array_length(env, argv[3], &rank) != napi_ok ||
      napi_get_array_length(env, argv[4], &permRank) != napi_ok || rank != permRank || rank < 1 || rank > MostAxes)
    return fail(env, "permute: expected a Float32Array heap, two byte offsets, and a shape and a permutation of 1 to 8 axes");
  int64_t shape[MostAxes], perm[MostAxes];
  bool seen[MostAxes] = {false};
  for (uint32_t i = 0; i < rank; i++) {
    napi_value s, p;
    if (napi_get_element(env, argv[3], i, &s) != napi_ok || napi_get_element(env, argv[4], i, &p) != napi_ok ||
        napi_get_value_int64(env, s, &shape[i]) != napi_ok || napi_get_value_int64(env, p, &perm[i]) != napi_ok || shape[i] < 0 || perm[i] < 0 ||
        perm[i] >= rank || seen[perm[i]])
      return fail(env, "permute: the shape must be non-negative integers and perm a permutation of its axes");
    seen[perm[i]] = true;
  }
  if (perm[rank - 1] != rank - 1) return fail(env, "permute: the last axis must stay last");
  int64_t count = 1, stride[MostAxes];
  for (int i = (int)rank - 1; i >= 0; i--) {
    stride[i] = count;
    count *= shape[i];
  }
  if (!inside(at[0], count, floats) || !inside(at[1], count, floats)) return fail(env, "permute: the operands do not lie inside the heap");
  if (count == 0) return NULL;
  const float* x = heap + at[0] / 4;
  float* y = heap + at[1] / 4;
  /* The output's outer axes in order, each with its extent and its stride in x; runs of the last axis are contiguous in both. */
  const int outer = (int)rank - 1;
  const size_t run = (size_t)shape[rank - 1] * sizeof(float);
  int64_t index[MostAxes] = {0}, from = 0;
  for (int64_t r = 0; r < count / shape[rank - 1]; r++) {
    memcpy(y, x + from, run);
    y += shape[rank - 1];
    for (int a = outer - 1; a >= 0; a--) {
      from += stride[perm[a]];
      if (++index[a] < shape[perm[a]]) break;
      from -= stride[perm[a]] * shape[perm[a]];
      index[a] = 0;
    }
  }
  return NULL;
}

/* What the native kernels share: the float32 heap they work on in place, and their errors. */
#ifndef PEFT_NATIVE_HEAP_H
#define PEFT_NATIVE_HEAP_H
#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>

static inline napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

/* The Float32Array `value` (tfjs-wasm's heap) as floats, and its length; false if it is none. */
static inline bool heap_of(napi_env env, napi_value value, float** data, size_t* floats) {
  napi_typedarray_type type;
  size_t byteOffset;
  napi_value buffer;
  return napi_get_typedarray_info(env, value, &type, floats, (void**)data, &buffer, &byteOffset) == napi_ok && type == napi_float32_array;
}

/* Non-negative integer arguments argv[from, from + count) into out; false if one is not. */
static inline bool integers(napi_env env, napi_value* argv, int from, int count, int64_t* out) {
  for (int i = 0; i < count; i++)
    if (napi_get_value_int64(env, argv[from + i], &out[i]) != napi_ok || out[i] < 0) return false;
  return true;
}

/* Whether `count` floats from byte offset `at` lie inside a heap of `floats` floats. */
static inline bool inside(int64_t at, int64_t count, size_t floats) { return at % 4 == 0 && count >= 0 && (uint64_t)(at / 4 + count) <= floats; }

#endif

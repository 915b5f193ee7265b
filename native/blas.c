/*
 * Matrix products through the system's BLAS (OpenBLAS by default), in place on tfjs-wasm's
 * heap: the library is opened at run time (dlopen), so this builds with no BLAS headers
 * installed, and a machine without the library still loads the addon and says so.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "blas.h"
#include "heap.h"

typedef void (*set_threads_fn)(int);
typedef char* (*config_fn)(void);

sgemm_fn peft_sgemm = NULL;
static set_threads_fn set_threads = NULL;
static config_fn config = NULL;

static napi_value string(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

/* load(path): open the library and find cblas_sgemm; answers its configuration line (OpenBLAS's, or the path). */
napi_value BlasLoad(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[4096];
  size_t length;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) != napi_ok) return fail(env, "load(path): path must be a string");
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) return fail(env, dlerror());
  sgemm_fn found = (sgemm_fn)dlsym(library, "cblas_sgemm");
  if (found == NULL) {
    char message[4200];
    snprintf(message, sizeof message, "%s has no cblas_sgemm", path);
    dlclose(library);
    return fail(env, message);
  }
  peft_sgemm = found;
  set_threads = (set_threads_fn)dlsym(library, "openblas_set_num_threads");
  config = (config_fn)dlsym(library, "openblas_get_config");
  return string(env, config != NULL ? config() : path);
}

/* setThreads(n): OpenBLAS's thread count (a no-op for a BLAS without one). */
napi_value BlasSetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_int32(env, argv[0], &n) != napi_ok || n < 1) return fail(env, "setThreads(n): n must be a positive integer");
  if (set_threads != NULL) set_threads(n);
  return NULL;
}

/* Products [from, to) of a batched call. */
typedef struct {
  const float* a;
  const float* b;
  float* c;
  int64_t from, to, m, n, k, strideA, strideB;
  bool transposeA, transposeB;
} Products;

static void* runProducts(void* arg) {
  const Products* p = (const Products*)arg;
  for (int64_t t = p->from; t < p->to; t++)
    peft_sgemm(RowMajor, p->transposeA ? Trans : NoTrans, p->transposeB ? Trans : NoTrans, (int)p->m, (int)p->n, (int)p->k, 1.0f, p->a + t * p->strideA,
          p->transposeA ? (int)p->m : (int)p->k, p->b + t * p->strideB, p->transposeB ? (int)p->k : (int)p->n, 0.0f, p->c + t * p->m * p->n, (int)p->n);
  return NULL;
}

/*
 * matmul(heap, a, b, c, batch, m, n, k, strideA, strideB, transposeA, transposeB[, split]):
 * c[t] = op(a[t]) op(b[t]) for t < batch, row-major float32; a, b, c are byte offsets into heap,
 * strides are floats between batch items (0 broadcasts one matrix), op transposes when asked;
 * split runs half the batch on a second thread.
 */
napi_value BlasMatmul(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (peft_sgemm == NULL) return fail(env, "matmul: no BLAS is loaded");
  if (argc < 12) return fail(env, "matmul: expected 12 or 13 arguments");
  float* heap;
  size_t floats;
  if (!heap_of(env, argv[0], &heap, &floats)) return fail(env, "matmul: heap must be a Float32Array");
  int64_t v[9];
  bool flags[2];
  if (!integers(env, argv, 1, 9, v)) return fail(env, "matmul: offsets, sizes and strides must be non-negative integers");
  for (int i = 0; i < 2; i++)
    if (napi_get_value_bool(env, argv[i + 10], &flags[i]) != napi_ok) return fail(env, "matmul: transpose flags must be booleans");
  const int64_t batch = v[3], m = v[4], n = v[5], k = v[6], strideA = v[7], strideB = v[8];
  /* Every element touched must lie inside the heap: an out-of-range call is refused, never run. */
  if (batch < 1 || m < 1 || n < 1 || k < 1 || !inside(v[0], strideA * (batch - 1) + m * k, floats) || !inside(v[1], strideB * (batch - 1) + k * n, floats) ||
      !inside(v[2], batch * m * n, floats))
    return fail(env, "matmul: the operands do not lie inside the heap");
  Products all = {heap + v[0] / 4, heap + v[1] / 4, heap + v[2] / 4, 0, batch, m, n, k, strideA, strideB, flags[0], flags[1]};
  bool split;
  if (argc == 13 && napi_get_value_bool(env, argv[12], &split) == napi_ok && split && batch > 1) {
    /* Two threads over the batch, each product on one OpenBLAS thread (the caller sets one). */
    Products second = all;
    second.from = all.to = batch / 2;
    pthread_t helper;
    if (pthread_create(&helper, NULL, runProducts, &second) == 0) {
      runProducts(&all);
      pthread_join(helper, NULL);
      return NULL;
    }
    all.to = batch;
  }
  runProducts(&all);
  return NULL;
}

/* The elements a row-major rows × cols matrix with leading dimension ld spans. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return (rows - 1) * ld + cols; }

/*
 * gemm(heap, a, b, c, m, n, k, lda, ldb, ldc, transposeA, transposeB, accumulate): one product
 * c = op(a) op(b) (+ c when accumulating) with leading dimensions, so c may be a block of columns
 * of a wider matrix and a bias laid in c beforehand is added for free.
 */
napi_value BlasGemm(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (peft_sgemm == NULL) return fail(env, "gemm: no BLAS is loaded");
  float* heap;
  size_t floats;
  int64_t v[9];
  bool flags[3];
  if (argc != 13 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, 9, v))
    return fail(env, "gemm: expected a Float32Array heap, byte offsets, sizes and leading dimensions");
  for (int i = 0; i < 3; i++)
    if (napi_get_value_bool(env, argv[i + 10], &flags[i]) != napi_ok) return fail(env, "gemm: transpose and accumulate flags must be booleans");
  const int64_t m = v[3], n = v[4], k = v[5], lda = v[6], ldb = v[7], ldc = v[8];
  const int64_t rowsA = flags[0] ? k : m, colsA = flags[0] ? m : k, rowsB = flags[1] ? n : k, colsB = flags[1] ? k : n;
  if (m < 1 || n < 1 || k < 1 || lda < colsA || ldb < colsB || ldc < n || !inside(v[0], span(rowsA, colsA, lda), floats) ||
      !inside(v[1], span(rowsB, colsB, ldb), floats) || !inside(v[2], span(m, n, ldc), floats))
    return fail(env, "gemm: the operands do not lie inside the heap");
  peft_sgemm(RowMajor, flags[0] ? Trans : NoTrans, flags[1] ? Trans : NoTrans, (int)m, (int)n, (int)k, 1.0f, heap + v[0] / 4, (int)lda, heap + v[1] / 4, (int)ldb,
        flags[2] ? 1.0f : 0.0f, heap + v[2] / 4, (int)ldc);
  return NULL;
}

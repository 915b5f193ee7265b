/*
 * Matrix products through the system's BLAS (OpenBLAS by default), in place on tfjs-wasm's
 * heap: the library is opened at run time (dlopen), so this builds with no BLAS headers
 * installed, and a machine without the library still loads the addon and says so.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "blas.h"
#include "heap.h"
#include "split.h"

typedef void (*set_threads_fn)(int);
typedef char* (*config_fn)(void);

sgemm_fn peft_sgemm = NULL;
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
  /* One thread inside OpenBLAS: the kernels here share products among threads themselves. */
  set_threads_fn set_threads = (set_threads_fn)dlsym(library, "openblas_set_num_threads");
  if (set_threads != NULL) set_threads(1);
  config = (config_fn)dlsym(library, "openblas_get_config");
  return string(env, config != NULL ? config() : path);
}

/*
 * Products run on OpenBLAS's single thread, spread over our own threads by blocks of c fixed by
 * the shape alone: every element of c is summed by the same sgemm call whatever the thread
 * count, so a run gives the same numbers on 1, 2 or 8 threads (OpenBLAS's own threading
 * partitions by its thread count, and its sums then differ in the last bits). A large product
 * is cut into blocks of whole rows or whole columns of c, whichever side is longer: each call
 * packs the other operand once, so a few long blocks cost little more than OpenBLAS's own
 * threads, which pack it once for all. Two blocks below 2^28 multiply-adds, four below 2^31,
 * else eight (measured on two threads against OpenBLAS's: [1040, 192] × [192, 576] 1.15–1.24 /
 * 1.09 ms, with eight blocks 1.30; [6304, 768] × [768, 2304] 107–110 / 105–107 ms, with 128 × 128
 * tiles 130 ms).
 */
enum { BlockAlign = 16 };

/* batch products c[t] = op(a[t]) op(b[t]) (+ c[t] when beta is 1), each cut into tiles of c. */
typedef struct {
  const float* a;
  const float* b;
  float* c;
  int64_t m, n, k, lda, ldb, ldc, strideA, strideB, strideC, tileM, tileN, tilesM, tilesN;
  bool transposeA, transposeB;
  float beta;
} Products;

/* Tiles (blocks of c) [from, to) of the batch, numbered product by product, row of tiles by row. */
static void runTiles(void* context, int64_t from, int64_t to) {
  const Products* p = (const Products*)context;
  const int64_t perProduct = p->tilesM * p->tilesN;
  for (int64_t tile = from; tile < to; tile++) {
    const int64_t t = tile / perProduct, i0 = tile % perProduct / p->tilesN * p->tileM, j0 = tile % p->tilesN * p->tileN;
    const int64_t rows = p->m - i0 < p->tileM ? p->m - i0 : p->tileM, cols = p->n - j0 < p->tileN ? p->n - j0 : p->tileN;
    const float* a = p->a + t * p->strideA + (p->transposeA ? i0 : i0 * p->lda);
    const float* b = p->b + t * p->strideB + (p->transposeB ? j0 * p->ldb : j0);
    peft_sgemm(RowMajor, p->transposeA ? Trans : NoTrans, p->transposeB ? Trans : NoTrans, (int)rows, (int)cols, (int)p->k, 1.0f, a, (int)p->lda, b, (int)p->ldb,
          p->beta, p->c + t * p->strideC + i0 * p->ldc + j0, (int)p->ldc);
  }
}

/* The size of `blocks` blocks of `length` rows (or columns): a multiple of BlockAlign, the last block shorter. */
static int64_t block(int64_t length, int64_t blocks) { return ((length + blocks - 1) / blocks + BlockAlign - 1) / BlockAlign * BlockAlign; }

/* Run the products: cut into blocks of c when `tiled`, else whole; the blocks (or products) shared among `threads` threads. */
static void runProducts(Products p, bool tiled, int64_t batch, int64_t threads) {
  const int64_t work = p.m * p.n * p.k, blocks = work < (INT64_C(1) << 28) ? 2 : work < (INT64_C(1) << 31) ? 4 : 8;
  p.tileM = tiled && p.m >= p.n ? block(p.m, blocks) : p.m;
  p.tileN = tiled && p.m < p.n ? block(p.n, blocks) : p.n;
  p.tilesM = (p.m + p.tileM - 1) / p.tileM;
  p.tilesN = (p.n + p.tileN - 1) / p.tileN;
  split_range(runTiles, &p, batch * p.tilesM * p.tilesN, threads, 1);
}

/* The `tiled` and `threads` arguments at argv[at], argv[at + 1]. */
static bool tiling(napi_env env, napi_value* argv, int at, bool* tiled, int64_t* threads) {
  return napi_get_value_bool(env, argv[at], tiled) == napi_ok && napi_get_value_int64(env, argv[at + 1], threads) == napi_ok && *threads >= 1;
}

/*
 * matmul(heap, a, b, c, batch, m, n, k, strideA, strideB, transposeA, transposeB, tiled, threads):
 * c[t] = op(a[t]) op(b[t]) for t < batch, row-major float32; a, b, c are byte offsets into heap,
 * strides are floats between batch items (0 broadcasts one matrix), op transposes when asked;
 * the products (or, when tiled, blocks of each) shared among `threads` threads.
 */
napi_value BlasMatmul(napi_env env, napi_callback_info info) {
  size_t argc = 14;
  napi_value argv[14];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (peft_sgemm == NULL) return fail(env, "matmul: no BLAS is loaded");
  if (argc != 14) return fail(env, "matmul: expected 14 arguments");
  float* heap;
  size_t floats;
  if (!heap_of(env, argv[0], &heap, &floats)) return fail(env, "matmul: heap must be a Float32Array");
  int64_t v[9], threads;
  bool flags[2], tiled;
  if (!integers(env, argv, 1, 9, v)) return fail(env, "matmul: offsets, sizes and strides must be non-negative integers");
  for (int i = 0; i < 2; i++)
    if (napi_get_value_bool(env, argv[i + 10], &flags[i]) != napi_ok) return fail(env, "matmul: transpose flags must be booleans");
  if (!tiling(env, argv, 12, &tiled, &threads)) return fail(env, "matmul: tiled must be a boolean and threads a positive integer");
  const int64_t batch = v[3], m = v[4], n = v[5], k = v[6], strideA = v[7], strideB = v[8];
  /* Every element touched must lie inside the heap: an out-of-range call is refused, never run. */
  if (batch < 1 || m < 1 || n < 1 || k < 1 || !inside(v[0], strideA * (batch - 1) + m * k, floats) || !inside(v[1], strideB * (batch - 1) + k * n, floats) ||
      !inside(v[2], batch * m * n, floats))
    return fail(env, "matmul: the operands do not lie inside the heap");
  const Products p = {.a = heap + v[0] / 4,
                      .b = heap + v[1] / 4,
                      .c = heap + v[2] / 4,
                      .m = m,
                      .n = n,
                      .k = k,
                      .lda = flags[0] ? m : k,
                      .ldb = flags[1] ? k : n,
                      .ldc = n,
                      .strideA = strideA,
                      .strideB = strideB,
                      .strideC = m * n,
                      .transposeA = flags[0],
                      .transposeB = flags[1],
                      .beta = 0.0f};
  runProducts(p, tiled, batch, threads);
  return NULL;
}

/* The elements a row-major rows × cols matrix with leading dimension ld spans. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return (rows - 1) * ld + cols; }

/*
 * gemm(heap, a, b, c, m, n, k, lda, ldb, ldc, transposeA, transposeB, accumulate, tiled, threads):
 * one product c = op(a) op(b) (+ c when accumulating) with leading dimensions, so c may be a
 * block of columns of a wider matrix and a bias laid in c beforehand is added for free; its
 * blocks shared among `threads` threads when tiled.
 */
napi_value BlasGemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (peft_sgemm == NULL) return fail(env, "gemm: no BLAS is loaded");
  float* heap;
  size_t floats;
  int64_t v[9], threads;
  bool flags[3], tiled;
  if (argc != 15 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, 9, v))
    return fail(env, "gemm: expected a Float32Array heap, byte offsets, sizes and leading dimensions");
  for (int i = 0; i < 3; i++)
    if (napi_get_value_bool(env, argv[i + 10], &flags[i]) != napi_ok) return fail(env, "gemm: transpose and accumulate flags must be booleans");
  if (!tiling(env, argv, 13, &tiled, &threads)) return fail(env, "gemm: tiled must be a boolean and threads a positive integer");
  const int64_t m = v[3], n = v[4], k = v[5], lda = v[6], ldb = v[7], ldc = v[8];
  const int64_t rowsA = flags[0] ? k : m, colsA = flags[0] ? m : k, rowsB = flags[1] ? n : k, colsB = flags[1] ? k : n;
  if (m < 1 || n < 1 || k < 1 || lda < colsA || ldb < colsB || ldc < n || !inside(v[0], span(rowsA, colsA, lda), floats) ||
      !inside(v[1], span(rowsB, colsB, ldb), floats) || !inside(v[2], span(m, n, ldc), floats))
    return fail(env, "gemm: the operands do not lie inside the heap");
  const Products p = {.a = heap + v[0] / 4,
                      .b = heap + v[1] / 4,
                      .c = heap + v[2] / 4,
                      .m = m,
                      .n = n,
                      .k = k,
                      .lda = lda,
                      .ldb = ldb,
                      .ldc = ldc,
                      .transposeA = flags[0],
                      .transposeB = flags[1],
                      .beta = flags[2] ? 1.0f : 0.0f};
  runProducts(p, tiled, 1, threads);
  return NULL;
}

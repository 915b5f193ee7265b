/*
 * Multi-head softmax attention on the fused projection, in place on tfjs-wasm's heap: each
 * (image, head) reads its q, k and v straight from qkv [n·t, 3w] (timm's column layout, through
 * sgemm's leading dimension) and writes its output into [n·t, w] at its head's columns, so there
 * is no head split or merge, and scores, softmax and products stay in cache. The gradient writes
 * d qkv the same way. Images·heads are shared among threads; each product runs on one BLAS thread.
 */
#include <stdlib.h>
#include "blas.h"
#include "fastExp.h"
#include "heap.h"
#include "split.h"

typedef struct {
  const float* qkv;
  float *out, *probs;                 /* forward: out [n·t, w], probs [n·heads, t, t] */
  const float *dOut, *dProbs;         /* backward: dProbs may be NULL */
  float* dqkv;                        /* backward: [n·t, 3w] */
  int64_t t, heads, d;
  float scale;
  bool failed;                        /* a part could not allocate its scratch */
} Items;

/* Row-wise softmax of p [t, t] in place; a row holding NaN becomes NaN. */
static void softmaxRows(float* p, int64_t t) {
  for (int64_t i = 0; i < t; i++) {
    float* restrict row = p + i * t;
    float most = row[0];
    bool nan = false;
    for (int64_t j = 0; j < t; j++) {
      most = row[j] > most ? row[j] : most;
      nan |= row[j] != row[j];
    }
    float sum = 0;
    for (int64_t j = 0; j < t; j++) {
      row[j] = exp_f(row[j] - most);
      sum += row[j];
    }
    const float inverse = nan ? __builtin_nanf("") : 1.0f / sum;
    for (int64_t j = 0; j < t; j++) row[j] *= inverse;
  }
}

/* Images·heads [from, to). */
static void forward(void* context, int64_t from, int64_t to) {
  const Items* s = (const Items*)context;
  const int64_t t = s->t, d = s->d, w = s->heads * d;
  for (int64_t item = from; item < to; item++) {
    const int64_t image = item / s->heads, head = item % s->heads;
    const float* q = s->qkv + image * t * 3 * w + head * d;
    float* p = s->probs + item * t * t;
    /* S = scale · q kᵀ, P = softmax(S), O = P v. */
    peft_sgemm(RowMajor, NoTrans, Trans, (int)t, (int)t, (int)d, s->scale, q, (int)(3 * w), q + w, (int)(3 * w), 0.0f, p, (int)t);
    softmaxRows(p, t);
    peft_sgemm(RowMajor, NoTrans, NoTrans, (int)t, (int)d, (int)t, 1.0f, p, (int)t, q + 2 * w, (int)(3 * w), 0.0f, s->out + image * t * w + head * d, (int)w);
  }
}

static void backward(void* context, int64_t from, int64_t to) {
  Items* s = (Items*)context;
  const int64_t t = s->t, d = s->d, w = s->heads * d;
  float* ds = malloc(sizeof(float) * (size_t)(t * t));
  if (ds == NULL) {
    __atomic_store_n(&s->failed, true, __ATOMIC_RELAXED);
    return;
  }
  for (int64_t item = from; item < to; item++) {
    const int64_t image = item / s->heads, head = item % s->heads, at = image * t * 3 * w + head * d;
    const float *q = s->qkv + at, *p = s->probs + item * t * t, *dO = s->dOut + image * t * w + head * d;
    float* dq = s->dqkv + at;
    /* dV = Pᵀ dO; dP = dO vᵀ (+ the probabilities' own gradient); dS = P ⊙ (dP − rowsum(dP ⊙ P)); dq = scale · dS k; dk = scale · dSᵀ q. */
    peft_sgemm(RowMajor, Trans, NoTrans, (int)t, (int)d, (int)t, 1.0f, p, (int)t, dO, (int)w, 0.0f, dq + 2 * w, (int)(3 * w));
    peft_sgemm(RowMajor, NoTrans, Trans, (int)t, (int)t, (int)d, 1.0f, dO, (int)w, q + 2 * w, (int)(3 * w), 0.0f, ds, (int)t);
    for (int64_t i = 0; i < t; i++) {
      float* restrict row = ds + i * t;
      const float* restrict prow = p + i * t;
      if (s->dProbs != NULL)
        for (int64_t j = 0; j < t; j++) row[j] += s->dProbs[item * t * t + i * t + j];
      float dot = 0;
      for (int64_t j = 0; j < t; j++) dot += row[j] * prow[j];
      for (int64_t j = 0; j < t; j++) row[j] = prow[j] * (row[j] - dot);
    }
    peft_sgemm(RowMajor, NoTrans, NoTrans, (int)t, (int)d, (int)t, s->scale, ds, (int)t, q + w, (int)(3 * w), 0.0f, dq, (int)(3 * w));
    peft_sgemm(RowMajor, Trans, NoTrans, (int)t, (int)d, (int)t, s->scale, ds, (int)t, q, (int)(3 * w), 0.0f, dq + w, (int)(3 * w));
  }
  free(ds);
}

/*
 * attention(heap, qkv, out, probs, n, t, heads, d, threads, scale) and attentionGrad(heap, qkv,
 * probs, dOut, dProbs, dqkv, hasDProbs, n, t, heads, d, threads, scale): byte offsets into heap.
 */
napi_value Attention(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float* heap;
  size_t floats;
  int64_t v[8];
  double scale;
  if (peft_sgemm == NULL) return fail(env, "attention: no BLAS is loaded");
  if (argc != 10 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, 8, v) || napi_get_value_double(env, argv[9], &scale) != napi_ok)
    return fail(env, "attention: expected a Float32Array heap, byte offsets, sizes, a thread count and a scale");
  const int64_t n = v[3], t = v[4], heads = v[5], d = v[6], threads = v[7], w = heads * d;
  if (n < 1 || t < 1 || heads < 1 || d < 1 || threads < 1 || threads > MostThreads || !inside(v[0], n * t * 3 * w, floats) || !inside(v[1], n * t * w, floats) ||
      !inside(v[2], n * heads * t * t, floats))
    return fail(env, "attention: the operands do not lie inside the heap");
  Items all = {heap + v[0] / 4, heap + v[1] / 4, heap + v[2] / 4, NULL, NULL, NULL, t, heads, d, (float)scale, false};
  split_range(forward, &all, n * heads, threads, 1);
  return NULL;
}

napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  float* heap;
  size_t floats;
  int64_t v[5], sizes[5];
  bool hasDProbs;
  double scale;
  if (peft_sgemm == NULL) return fail(env, "attentionGrad: no BLAS is loaded");
  if (argc != 13 || !heap_of(env, argv[0], &heap, &floats) || !integers(env, argv, 1, 5, v) || napi_get_value_bool(env, argv[6], &hasDProbs) != napi_ok ||
      !integers(env, argv, 7, 5, sizes) || napi_get_value_double(env, argv[12], &scale) != napi_ok)
    return fail(env, "attentionGrad: expected a Float32Array heap, byte offsets, a flag, sizes, a thread count and a scale");
  const int64_t n = sizes[0], t = sizes[1], heads = sizes[2], d = sizes[3], threads = sizes[4], w = heads * d;
  if (n < 1 || t < 1 || heads < 1 || d < 1 || threads < 1 || threads > MostThreads || !inside(v[0], n * t * 3 * w, floats) || !inside(v[1], n * heads * t * t, floats) ||
      !inside(v[2], n * t * w, floats) || (hasDProbs && !inside(v[3], n * heads * t * t, floats)) || !inside(v[4], n * t * 3 * w, floats))
    return fail(env, "attentionGrad: the operands do not lie inside the heap");
  Items all = {heap + v[0] / 4, NULL, (float*)(heap + v[1] / 4), heap + v[2] / 4, hasDProbs ? heap + v[3] / 4 : NULL, heap + v[4] / 4, t, heads, d, (float)scale, false};
  split_range(backward, &all, n * heads, threads, 1);
  if (all.failed) return fail(env, "attentionGrad: out of memory");
  return NULL;
}

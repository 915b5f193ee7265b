// Batched matrix multiply for tfjs's wasm backend, which runs BatchMatMul with a batch above 1
// through a scalar loop (~1 GFLOP/s). c[t] = a[t] · b[t] for row-major a [m, k], b [k, n];
// a_step / b_step are the strides between batch entries (0 broadcasts one matrix).
// Register tiles of 4 rows × 8 columns in SIMD; remainders in narrower loops.
// Build: kernels/build.sh (clang --target=wasm32 -msimd128).
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(name)))

static void tile4x8(const float* A, const float* B, float* C, int k, int n, int j) {
  v128_t c00 = wasm_f32x4_splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (int p = 0; p < k; p++) {
    v128_t b0 = wasm_v128_load(B + p * n + j), b1 = wasm_v128_load(B + p * n + j + 4);
    v128_t a0 = wasm_f32x4_splat(A[p]), a1 = wasm_f32x4_splat(A[k + p]), a2 = wasm_f32x4_splat(A[2 * k + p]), a3 = wasm_f32x4_splat(A[3 * k + p]);
    c00 = wasm_f32x4_add(c00, wasm_f32x4_mul(a0, b0)); c01 = wasm_f32x4_add(c01, wasm_f32x4_mul(a0, b1));
    c10 = wasm_f32x4_add(c10, wasm_f32x4_mul(a1, b0)); c11 = wasm_f32x4_add(c11, wasm_f32x4_mul(a1, b1));
    c20 = wasm_f32x4_add(c20, wasm_f32x4_mul(a2, b0)); c21 = wasm_f32x4_add(c21, wasm_f32x4_mul(a2, b1));
    c30 = wasm_f32x4_add(c30, wasm_f32x4_mul(a3, b0)); c31 = wasm_f32x4_add(c31, wasm_f32x4_mul(a3, b1));
  }
  wasm_v128_store(C + j, c00); wasm_v128_store(C + j + 4, c01);
  wasm_v128_store(C + n + j, c10); wasm_v128_store(C + n + j + 4, c11);
  wasm_v128_store(C + 2 * n + j, c20); wasm_v128_store(C + 2 * n + j + 4, c21);
  wasm_v128_store(C + 3 * n + j, c30); wasm_v128_store(C + 3 * n + j + 4, c31);
}

static void row(const float* A, const float* B, float* C, int k, int n, int from) {
  int j = from;
  for (; j + 4 <= n; j += 4) {
    v128_t c = wasm_f32x4_splat(0);
    for (int p = 0; p < k; p++) c = wasm_f32x4_add(c, wasm_f32x4_mul(wasm_f32x4_splat(A[p]), wasm_v128_load(B + p * n + j)));
    wasm_v128_store(C + j, c);
  }
  for (; j < n; j++) {
    float s = 0;
    for (int p = 0; p < k; p++) s += A[p] * B[p * n + j];
    C[j] = s;
  }
}

EXPORT("bmm")
void bmm(const float* a, const float* b, float* c, int batch, int m, int k, int n, int a_step, int b_step) {
  for (int t = 0; t < batch; t++) {
    const float* A = a + t * a_step;
    const float* B = b + t * b_step;
    float* C = c + t * m * n;
    int i = 0;
    for (; i + 4 <= m; i += 4) {
      int j = 0;
      for (; j + 8 <= n; j += 8) tile4x8(A + i * k, B, C + i * n, k, n, j);
      for (int r = 0; r < 4; r++) row(A + (i + r) * k, B, C + (i + r) * n, k, n, j);
    }
    for (; i < m; i++) row(A + i * k, B, C + i * n, k, n, 0);
  }
}

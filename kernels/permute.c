// S²FT's permutation of a matrix for tfjs's wasm backend, whose GatherV2 is slow on these shapes:
// scatter2: y[rows[i], cols[j]] = x[i, j]; gather2: y[i, j] = x[rows[i], cols[j]] (its gradient).
// Values move, none are combined. Build: kernels/build.sh.

#define EXPORT(name) __attribute__((export_name(name)))

EXPORT("scatter2")
void scatter2(const float* x, const int* rows, const int* cols, float* y, int m, int n) {
  for (int i = 0; i < m; i++) {
    float* out = y + rows[i] * n;
    const float* in = x + i * n;
    for (int j = 0; j < n; j++) out[cols[j]] = in[j];
  }
}

EXPORT("gather2")
void gather2(const float* x, const int* rows, const int* cols, float* y, int m, int n) {
  for (int i = 0; i < m; i++) {
    const float* in = x + rows[i] * n;
    float* out = y + i * n;
    for (int j = 0; j < n; j++) out[j] = in[cols[j]];
  }
}

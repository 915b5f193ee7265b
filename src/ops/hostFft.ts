import PFFFT from "@echogarden/pffft-wasm/simd";

/*
 * Complex 1-D inverse DFTs on the host, for backends without complex kernels (wasm) or with
 * slow ones (cpu takes ~49 s for a 768² 2-D FFT). PFFFT handles n = 2^a·3^b·5^c that are
 * multiples of 16 (768 and 3072 among them); other sizes take a direct float64 DFT.
 */

const pffft = await PFFFT();
const backward = 1;
const complexTransform = 1;

const pffftCan = (n: number): boolean => {
  if (n % 16 !== 0) return false;
  let m = n;
  for (const f of [2, 3, 5]) while (m % f === 0) m /= f;
  return m === 1;
};

const setups = new Map<number, number>();
const setupFor = (n: number): number => {
  let s = setups.get(n);
  if (s === undefined) {
    s = pffft._pffft_new_setup(n, complexTransform);
    setups.set(n, s);
  }
  return s;
};

/** y_k = Σ_j x_j e^{+2πi jk/n} (unnormalised) for `count` interleaved complex rows of length n, in place. */
export const inverseDftRows = (data: Float32Array, n: number, count: number): void => {
  if (pffftCan(n)) {
    const bytes = 8 * n;
    const ptr = pffft._pffft_aligned_malloc(bytes);
    try {
      const setup = setupFor(n);
      for (let r = 0; r < count; r++) {
        const row = data.subarray(2 * n * r, 2 * n * (r + 1));
        pffft.HEAPF32.set(row, ptr / 4);
        pffft._pffft_transform_ordered(setup, ptr, ptr, 0, backward);
        row.set(pffft.HEAPF32.subarray(ptr / 4, ptr / 4 + 2 * n));
      }
    } finally {
      pffft._pffft_aligned_free(ptr);
    }
    return;
  }
  const cos = Float64Array.from({ length: n }, (_, k) => Math.cos((2 * Math.PI * k) / n));
  const sin = Float64Array.from({ length: n }, (_, k) => Math.sin((2 * Math.PI * k) / n));
  const out = new Float64Array(2 * n);
  for (let r = 0; r < count; r++) {
    const row = data.subarray(2 * n * r, 2 * n * (r + 1));
    out.fill(0);
    for (let j = 0; j < n; j++) {
      const re = row[2 * j]!;
      const im = row[2 * j + 1]!;
      if (re === 0 && im === 0) continue;
      for (let k = 0; k < n; k++) {
        const t = (j * k) % n;
        out[2 * k] = out[2 * k]! + re * cos[t]! - im * sin[t]!;
        out[2 * k + 1] = out[2 * k + 1]! + re * sin[t]! + im * cos[t]!;
      }
    }
    for (let i = 0; i < 2 * n; i++) row[i] = out[i]!;
  }
};

/** The unnormalised 2-D inverse DFT of a real S [m, n] (row-major), interleaved complex, column-major [n][m]. */
const inverseDft2 = (s: ArrayLike<number>, m: number, n: number): Float32Array => {
  const rows = new Float32Array(2 * m * n);
  for (let i = 0; i < m * n; i++) rows[2 * i] = s[i]!;
  inverseDftRows(rows, n, m);
  // Columns: gather each column as a complex row, transform.
  const cols = new Float32Array(2 * m * n);
  for (let u = 0; u < m; u++) {
    for (let k = 0; k < n; k++) {
      cols[2 * (k * m + u)] = rows[2 * (u * n + k)]!;
      cols[2 * (k * m + u) + 1] = rows[2 * (u * n + k) + 1]!;
    }
  }
  inverseDftRows(cols, m, n);
  return cols;
};

/** Re(IDFT2(S)) with the 1/(m·n) normalisation, for a real S [m, n] given row-major. */
export const realIdft2Host = (s: ArrayLike<number>, m: number, n: number): Float32Array => {
  const cols = inverseDft2(s, m, n);
  const out = new Float32Array(m * n);
  const scale = 1 / (m * n);
  for (let j = 0; j < m; j++) for (let k = 0; k < n; k++) out[j * n + k] = cols[2 * (k * m + j)]! * scale;
  return out;
};

/**
 * |DFT2(X)| for a real X [m, n], row-major. For real input the forward transform is the complex
 * conjugate of the unnormalised inverse one, so their magnitudes agree.
 */
export const dft2MagnitudeHost = (x: ArrayLike<number>, m: number, n: number): Float64Array => {
  const cols = inverseDft2(x, m, n);
  const out = new Float64Array(m * n);
  for (let u = 0; u < m; u++) for (let v = 0; v < n; v++) out[u * n + v] = Math.hypot(cols[2 * (v * m + u)]!, cols[2 * (v * m + u) + 1]!);
  return out;
};

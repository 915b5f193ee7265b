import type { HostTensor } from "./backbone.js";

/** Keys' cubic convolution kernel with a = −0.5 (what torch's antialiased bicubic uses, as PIL). */
const cubic = (x: number): number => {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a;
  return 0;
};

/**
 * Per output index, the input indices and normalised weights of torch's antialiased bicubic
 * resize (`F.interpolate(mode="bicubic", antialias=True, align_corners=False)`): the kernel is
 * stretched by the scale when shrinking, clipped at the borders and renormalised.
 */
const taps = (input: number, output: number): { readonly start: number; readonly weights: number[] }[] => {
  const scale = input / output;
  const support = scale >= 1 ? 2 * scale : 2;
  const invscale = scale >= 1 ? 1 / scale : 1;
  return Array.from({ length: output }, (_, i) => {
    const center = scale * (i + 0.5);
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const size = Math.min(Math.trunc(center + support + 0.5), input) - start;
    const raw = Array.from({ length: size }, (_, j) => cubic((j + start - center + 0.5) * invscale));
    const total = raw.reduce((a, b) => a + b, 0);
    return { start, weights: total === 0 ? raw : raw.map((w) => w / total) };
  });
};

/**
 * timm's `resample_abs_pos_embed` with its defaults (bicubic, antialias): the position embedding
 * [1, prefix + g², width] of a g×g patch grid resampled to `grid`×`grid`, the `prefix` rows (class
 * and register tokens) kept as they are. Used when fine-tuning at another image size than the
 * checkpoint's.
 */
export const resamplePosEmbed = (pos: HostTensor, prefix: number, grid: number): HostTensor => {
  const width = pos.shape[2]!;
  const old = Math.round(Math.sqrt(pos.shape[1]! - prefix));
  if (old === grid) return pos;
  const rows = taps(old, grid);
  const cols = taps(old, grid);
  const src = (y: number, x: number, c: number) => pos.data[(prefix + y * old + x) * width + c]!;
  // Separable, as torch: along x first, then along y.
  const across = new Float64Array(old * grid * width);
  for (let y = 0; y < old; y++) {
    for (let x = 0; x < grid; x++) {
      const { start, weights } = cols[x]!;
      for (let c = 0; c < width; c++) {
        let s = 0;
        for (let j = 0; j < weights.length; j++) s += weights[j]! * src(y, start + j, c);
        across[(y * grid + x) * width + c] = s;
      }
    }
  }
  const out = new Float32Array((prefix + grid * grid) * width);
  out.set(pos.data.subarray(0, prefix * width));
  for (let y = 0; y < grid; y++) {
    const { start, weights } = rows[y]!;
    for (let x = 0; x < grid; x++) {
      for (let c = 0; c < width; c++) {
        let s = 0;
        for (let j = 0; j < weights.length; j++) s += weights[j]! * across[((start + j) * grid + x) * width + c]!;
        out[(prefix + y * grid + x) * width + c] = s;
      }
    }
  }
  return { shape: [1, prefix + grid * grid, width], data: out };
};

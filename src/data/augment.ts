import type { Augment } from "../dsl/experiment.js";
import { rng, type Rng } from "../util/random.js";
import type { Batch } from "./dataset.js";

/** One crop box (top, left, height, width) by timm's RandomResizedCrop: area share in `scale`, aspect ratio in `ratio` (log-uniform), ten tries, else the centre crop at the nearest ratio. */
export const cropBox = (h: number, w: number, scale: readonly [number, number], ratio: readonly [number, number], r: Rng): [number, number, number, number] => {
  const area = h * w;
  const [logLo, logHi] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (scale[0] + (scale[1] - scale[0]) * r.uniform());
    const aspect = Math.exp(logLo + (logHi - logLo) * r.uniform());
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) return [r.int(h - ch + 1), r.int(w - cw + 1), ch, cw];
  }
  const inRatio = w / h;
  const [ch, cw] = inRatio < ratio[0] ? [Math.round(w / ratio[0]), w] : inRatio > ratio[1] ? [h, Math.round(h * ratio[1])] : [h, w];
  return [Math.floor((h - ch) / 2), Math.floor((w - cw) / 2), ch, cw];
};

/** The box [top, left, height, width] of an H×W×C image resized back to H×W, bilinear (half-pixel centres, edges clamped). */
export const resizedCrop = (img: Float32Array, h: number, w: number, c: number, [top, left, ch, cw]: readonly number[]): Float32Array => {
  const out = new Float32Array(h * w * c);
  const at = (y: number, x: number, k: number) => img[((top! + Math.min(Math.max(y, 0), ch! - 1)) * w + left! + Math.min(Math.max(x, 0), cw! - 1)) * c + k]!;
  for (let y = 0; y < h; y++) {
    const sy = ((y + 0.5) * ch!) / h - 0.5;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = ((x + 0.5) * cw!) / w - 0.5;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      for (let k = 0; k < c; k++) {
        out[(y * w + x) * c + k] =
          (1 - fy) * ((1 - fx) * at(y0, x0, k) + fx * at(y0, x0 + 1, k)) + fy * ((1 - fx) * at(y0 + 1, x0, k) + fx * at(y0 + 1, x0 + 1, k));
      }
    }
  }
  return out;
};

/** An H×W×C image mirrored left to right. */
export const flipped = (img: Float32Array, h: number, w: number, c: number): Float32Array => {
  const out = new Float32Array(img.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[(y * w + x) * c + k] = img[(y * w + (w - 1 - x)) * c + k]!;
  return out;
};

/**
 * A training batch augmented as FGVC recipes do: each image a random resized crop, then flipped
 * with probability ½ — drawn from (seed, epoch, batch), so a resumed run sees the same images.
 */
export const augmentBatch = (b: Batch, shape: readonly [number, number, number], a: Augment, seed: number, epoch: number, index: number): Batch => {
  const [h, w, c] = shape;
  const r = rng(seed, `augment ${epoch} ${index}`);
  const size = h * w * c;
  const images = new Float32Array(b.images.length);
  for (let n = 0; n < b.count; n++) {
    let img = b.images.subarray(n * size, (n + 1) * size) as Float32Array;
    if (a.crop !== null) img = resizedCrop(img, h, w, c, cropBox(h, w, a.crop.scale, a.crop.ratio, r));
    if (a.flip && r.uniform() < 0.5) img = flipped(img, h, w, c);
    images.set(img, n * size);
  }
  return { ...b, images };
};

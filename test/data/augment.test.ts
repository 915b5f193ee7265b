import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { augmentBatch, cropBox, flipped, resizedCrop } from "../../src/data/augment.js";
import { rng } from "../../src/util/random.js";

describe("train-time augmentation", () => {
  it("a crop box lies inside the image, with its area share and aspect ratio in range (or the centre fallback)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 64 }), fc.integer({ min: 4, max: 64 }), fc.nat(), (h, w, seed) => {
        const [top, left, ch, cw] = cropBox(h, w, [0.08, 1], [3 / 4, 4 / 3], rng(seed, "t"));
        expect(top >= 0 && left >= 0 && ch >= 1 && cw >= 1 && top + ch <= h && left + cw <= w).toBe(true);
      }),
      { numRuns: 300 },
    );
    // Scale and ratio of exactly 1 on a square image: the whole image.
    expect(cropBox(16, 16, [1, 1], [1, 1], rng(0))).toEqual([0, 0, 16, 16]);
  });

  it("the resized crop of a linear ramp is the closed form of bilinear sampling with half-pixel centres", () => {
    const [h, w, c] = [12, 10, 2];
    const img = Float32Array.from({ length: h * w * c }, (_, i) => {
      const [y, x, k] = [Math.floor(i / (w * c)), Math.floor(i / c) % w, i % c];
      return 0.5 * y - 0.25 * x + k;
    });
    const box = [2, 3, 6, 5] as const;
    const out = resizedCrop(img, h, w, c, box);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < c; k++) {
          const sy = Math.min(Math.max(((y + 0.5) * box[2]) / h - 0.5, 0), box[2] - 1);
          const sx = Math.min(Math.max(((x + 0.5) * box[3]) / w - 0.5, 0), box[3] - 1);
          expect(out[(y * w + x) * c + k]).toBeCloseTo(0.5 * (box[0] + sy) - 0.25 * (box[1] + sx) + k, 5);
        }
    // The whole box at the same size is the image itself.
    expect(Array.from(resizedCrop(img, h, w, c, [0, 0, h, w]))).toEqual(Array.from(img));
  });

  it("a flip mirrors each row (twice: the image), and a batch is augmented the same for the same (seed, epoch, batch)", () => {
    const img = Float32Array.from({ length: 3 * 4 * 2 }, (_, i) => i);
    expect(Array.from(flipped(img, 3, 4, 2)).slice(0, 8)).toEqual([6, 7, 4, 5, 2, 3, 0, 1]);
    expect(Array.from(flipped(flipped(img, 3, 4, 2), 3, 4, 2))).toEqual(Array.from(img));
    const batch = { images: Float32Array.from({ length: 4 * 8 * 8 * 3 }, (_, i) => Math.sin(i)), labels: Int32Array.from([0, 1, 0, 1]), count: 4 };
    const a = { flip: true, crop: { scale: [0.3, 1], ratio: [0.75, 1.33] } } as const;
    const once = augmentBatch(batch, [8, 8, 3], a, 1, 2, 3).images;
    expect(Array.from(augmentBatch(batch, [8, 8, 3], a, 1, 2, 3).images)).toEqual(Array.from(once));
    expect(Array.from(augmentBatch(batch, [8, 8, 3], a, 1, 3, 3).images)).not.toEqual(Array.from(once));
    expect(Array.from(once)).not.toEqual(Array.from(batch.images));
    expect(Array.from(augmentBatch(batch, [8, 8, 3], { flip: false, crop: null }, 1, 2, 3).images)).toEqual(Array.from(batch.images));
  });
});

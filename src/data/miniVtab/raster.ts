/** 28×28 grey images with values in [0, 1], row-major: the canvas of mini-VTAB's tasks. */
export const side = 28;
export type Image = Float32Array;

export const blank = (): Image => new Float32Array(side * side);

/** MNIST's u8 image `index` as [0, 1] values. */
export const fromU8 = (data: Uint8Array, index: number): Image =>
  Float32Array.from(data.subarray(index * side * side, (index + 1) * side * side), (v) => v / 255);

/** Paint `value` wherever `inside(x, y)` holds at the pixel centre (x right, y down), max-blending. */
export const paint = (img: Image, inside: (x: number, y: number) => boolean, value = 1): Image => {
  for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) if (inside(x + 0.5, y + 0.5)) img[y * side + x] = Math.max(img[y * side + x]!, value);
  return img;
};

export const disc = (cx: number, cy: number, r: number) => (x: number, y: number) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r;

export const square = (x0: number, y0: number, size: number) => (x: number, y: number) => x >= x0 && x < x0 + size && y >= y0 && y < y0 + size;

/** A bar of half-length `half` and half-width `width` through (cx, cy) at `angle` radians. */
export const bar = (cx: number, cy: number, angle: number, half: number, width: number) => (x: number, y: number) => {
  const dx = x - cx;
  const dy = y - cy;
  const along = dx * Math.cos(angle) + dy * Math.sin(angle);
  const across = -dx * Math.sin(angle) + dy * Math.cos(angle);
  return Math.abs(along) <= half && Math.abs(across) <= width;
};

/** Separable Gaussian blur, edges clamped. */
export const blur = (img: Image, sigma: number): Image => {
  const radius = Math.ceil(3 * sigma);
  const kernel = Array.from({ length: 2 * radius + 1 }, (_, i) => Math.exp(-((i - radius) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  const pass = (src: Image, horizontal: boolean): Image => {
    const out = blank();
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = horizontal ? Math.min(side - 1, Math.max(0, x + k)) : x;
          const yy = horizontal ? y : Math.min(side - 1, Math.max(0, y + k));
          s += kernel[k + radius]! * src[yy * side + xx]!;
        }
        out[y * side + x] = s / total;
      }
    }
    return out;
  };
  return pass(pass(img, true), false);
};

/** Bilinear sample with zeros outside the canvas. */
const sample = (img: Image, x: number, y: number): number => {
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  let v = 0;
  for (const [xx, yy, w] of [
    [x0, y0, (1 - (x - x0)) * (1 - (y - y0))],
    [x0 + 1, y0, (x - x0) * (1 - (y - y0))],
    [x0, y0 + 1, (1 - (x - x0)) * (y - y0)],
    [x0 + 1, y0 + 1, (x - x0) * (y - y0)],
  ] as const) {
    if (xx >= 0 && xx < side && yy >= 0 && yy < side) v += w * img[yy * side + xx]!;
  }
  return v;
};

/** Simard et al.'s elastic deformation: displacement fields of uniform noise, blurred by σ and scaled by α. */
export const elastic = (img: Image, alpha: number, sigma: number, noise: () => number): Image => {
  const field = () =>
    blur(
      Float32Array.from({ length: side * side }, () => 2 * noise() - 1),
      sigma,
    );
  const dx = field();
  const dy = field();
  // Blurred uniform noise has a small spread; normalise it so α is the typical displacement in pixels.
  const rms = Math.sqrt([...dx, ...dy].reduce((s, v) => s + v * v, 0) / (2 * side * side)) || 1;
  return Float32Array.from({ length: side * side }, (_, i) => sample(img, (i % side) + (alpha * dx[i]!) / rms, Math.floor(i / side) + (alpha * dy[i]!) / rms));
};

/** 2 × 2 average pooling: a 14 × 14 version of the image. */
export const halve = (img: Image): Float32Array =>
  Float32Array.from({ length: 14 * 14 }, (_, i) => {
    const x = 2 * (i % 14);
    const y = 2 * Math.floor(i / 14);
    return (img[y * side + x]! + img[y * side + x + 1]! + img[(y + 1) * side + x]! + img[(y + 1) * side + x + 1]!) / 4;
  });

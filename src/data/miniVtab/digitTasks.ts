import { rng, shuffled } from "../../util/random.js";
import { mnist } from "../mnist.js";
import { blank, blur, elastic, fromU8, halve, type Image } from "./raster.js";
import type { ExampleSource } from "./source.js";

/** The natural and specialized tasks read only these digits: the demo backbone was pretrained on 0–4. */
export const unseenDigits = [5, 6, 7, 8, 9] as const;

/** MNIST images of digits 5–9 of one standard split, in an order fixed by the seed. */
const pool = (
  which: "train" | "test",
  seed: number,
): { readonly image: (k: number) => Image; readonly digit: (k: number) => number; readonly size: number } => {
  const split = mnist(which);
  const indices: number[] = [];
  const unseen = new Set<number>(unseenDigits);
  for (let i = 0; i < split.count; i++) if (unseen.has(split.labels[i]!)) indices.push(i);
  const order = shuffled(indices, rng(seed, `mini-vtab:pool:${which}`));
  return { image: (k) => fromU8(split.images, order[k]!), digit: (k) => split.labels[order[k]!]!, size: order.length };
};

/** A digit task: one image per example, relabelled and optionally transformed (a domain shift). */
const perDigit =
  (label: (digit: number) => number, shift: (img: Image, noise: () => number) => Image = (img) => img) =>
  (which: "train" | "test", seed: number, name: string): ExampleSource => {
    const p = pool(which, seed);
    return {
      size: p.size,
      example: (i) => {
        const r = rng(seed, `${name}:${which}:${i}`);
        return { image: shift(p.image(i), r.uniform), label: label(p.digit(i)) };
      },
    };
  };

const fromFive = (d: number) => d - 5;

/** Two half-size digits side by side, vertically centred: which one is larger. */
const pairOrder = (which: "train" | "test", seed: number): ExampleSource => {
  const p = pool(which, seed);
  return {
    size: Math.floor(p.size / 2),
    example: (i) => {
      const image = blank();
      [halve(p.image(2 * i)), halve(p.image(2 * i + 1))].forEach((half, side) => {
        for (let y = 0; y < 14; y++) for (let x = 0; x < 14; x++) image[(y + 7) * 28 + x + 14 * side] = half[y * 14 + x]!;
      });
      const [a, b] = [p.digit(2 * i), p.digit(2 * i + 1)];
      return { image, label: a < b ? 0 : a === b ? 1 : 2 };
    },
  };
};

const clip = (v: number) => Math.min(1, Math.max(0, v));

/** Gaussian noise from two uniforms (Box–Muller). */
const gaussian = (u: () => number) => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

/** Stripes at a random angle and period behind the digit: a texture the digit must be read against. */
const striped = (img: Image, u: () => number): Image => {
  const angle = Math.PI * u();
  const period = 4 + 3 * u();
  return img.map((v, i) =>
    Math.max(v, 0.3 * (0.5 + 0.5 * Math.sin((2 * Math.PI * ((i % 28) * Math.cos(angle) + Math.floor(i / 28) * Math.sin(angle))) / period))),
  );
};

export const digitTasks = {
  digits: perDigit(fromFive),
  parity: perDigit((d) => (d % 2 === 1 ? 0 : 1)),
  "pair-order": (which: "train" | "test", seed: number) => pairOrder(which, seed),
  inverted: perDigit(fromFive, (img) => img.map((v) => 1 - v)),
  noisy: perDigit(fromFive, (img, u) => img.map((v) => clip(v + 0.4 * gaussian(u)))),
  blurred: perDigit(fromFive, (img) => blur(img, 1.5)),
  elastic: perDigit(fromFive, (img, u) => striped(elastic(img, 2, 3, u), u)),
};

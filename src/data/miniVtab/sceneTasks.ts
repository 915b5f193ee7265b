import { rng, type Rng } from "../../util/random.js";
import { bar, blank, disc, paint, side, square, type Image } from "./raster.js";
import type { ExampleSource } from "./source.js";

/** A procedural task: example i of a stream is drawn from its own generator (name, stream, i), label first, so classes are balanced in expectation. */
const scenes =
  (draw: (r: Rng) => { image: Image; label: number }) =>
  (which: "train" | "test", seed: number, name: string): ExampleSource => ({
    size: Infinity,
    example: (i) => draw(rng(seed, `${name}:${which}:${i}`)),
  });

const between = (r: Rng, lo: number, hi: number) => lo + (hi - lo) * r.uniform();

/** 1–5 non-overlapping discs of random size and brightness. */
const count = scenes((r) => {
  const n = 1 + r.int(5);
  const placed: { x: number; y: number; radius: number }[] = [];
  while (placed.length < n) {
    const radius = between(r, 1.8, 2.8);
    const x = between(r, radius + 1, side - radius - 1);
    const y = between(r, radius + 1, side - radius - 1);
    if (placed.every((p) => Math.hypot(p.x - x, p.y - y) >= p.radius + radius + 1.5)) placed.push({ x, y, radius });
  }
  const image = blank();
  for (const p of placed) paint(image, disc(p.x, p.y, p.radius), between(r, 0.6, 1));
  return { image, label: n - 1 };
});

/** A square of side 5–7 somewhere inside one cell of a 3 × 3 grid. */
const location = scenes((r) => {
  const cell = r.int(9);
  const size = 5 + r.int(3);
  const span = side / 3;
  const x = (cell % 3) * span + between(r, 0, span - size);
  const y = Math.floor(cell / 3) * span + between(r, 0, span - size);
  return { image: paint(blank(), square(x, y, size)), label: cell };
});

/** A bar near the centre at an angle in bin k of 8 over [0, π). */
const orientation = scenes((r) => {
  const bin = r.int(8);
  const angle = ((bin + r.uniform()) * Math.PI) / 8;
  return { image: paint(blank(), bar(14 + between(r, -3, 3), 14 + between(r, -3, 3), angle, 9, 1.2)), label: bin };
});

/** Two dots whose distance falls in bin k: [4, 9), [9, 14), [14, 19), [19, 24) pixels. */
const distance = scenes((r) => {
  const bin = r.int(4);
  const d = between(r, 4 + 5 * bin, 9 + 5 * bin);
  for (;;) {
    const x = between(r, 3, side - 3);
    const y = between(r, 3, side - 3);
    const angle = 2 * Math.PI * r.uniform();
    const [x2, y2] = [x + d * Math.cos(angle), y + d * Math.sin(angle)];
    if (x2 < 3 || x2 > side - 3 || y2 < 3 || y2 > side - 3) continue;
    return { image: paint(paint(blank(), disc(x, y, 2)), disc(x2, y2, 2)), label: bin };
  }
});

export const sceneTasks = { count, location, orientation, distance };

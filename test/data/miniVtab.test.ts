import { describe, expect, it } from "vitest";
import { miniVtabSplits } from "../../src/data/miniVtab/build.js";
import { miniVtabNames, miniVtabTasks } from "../../src/dsl/miniVtab.js";
import type { Image } from "../../src/data/miniVtab/raster.js";

const vtab = { _tag: "Vtab1k", train: 800, val: 200 } as const;

/** Connected bright regions (4-neighbour flood fill), each as its pixels. */
const components = (img: Image, threshold = 0.3): Array<Array<[number, number]>> => {
  const seen = new Uint8Array(784);
  const out: Array<Array<[number, number]>> = [];
  for (let start = 0; start < 784; start++) {
    if (seen[start] || img[start]! < threshold) continue;
    const region: Array<[number, number]> = [];
    const stack = [start];
    seen[start] = 1;
    while (stack.length > 0) {
      const p = stack.pop()!;
      const [x, y] = [p % 28, Math.floor(p / 28)];
      region.push([x, y]);
      for (const [nx, ny] of [
        [x + 1, y],
        [x - 1, y],
        [x, y + 1],
        [x, y - 1],
      ] as const) {
        const q = ny * 28 + nx;
        if (nx >= 0 && nx < 28 && ny >= 0 && ny < 28 && !seen[q] && img[q]! >= threshold) {
          seen[q] = 1;
          stack.push(q);
        }
      }
    }
    out.push(region);
  }
  return out;
};
const centroid = (r: Array<[number, number]>) => [r.reduce((s, p) => s + p[0], 0) / r.length + 0.5, r.reduce((s, p) => s + p[1], 0) / r.length + 0.5] as const;

describe("mini-VTAB", () => {
  it("has at least 9 tasks covering VTAB's three groups", () => {
    expect(miniVtabNames.length).toBeGreaterThanOrEqual(9);
    expect(new Set(Object.values(miniVtabTasks).map((t) => t.group))).toEqual(new Set(["natural", "specialized", "structured"]));
  });

  for (const name of miniVtabNames) {
    it(`${name}: 800 / 200 / 2000 examples, labels in range, deterministic in the seed`, () => {
      const a = miniVtabSplits(name, vtab, 0, 2000);
      expect([a.train.images.length, a.val.images.length, a.test.images.length]).toEqual([800, 200, 2000]);
      const classes = miniVtabTasks[name].classes;
      for (const l of [...a.train.labels, ...a.test.labels]) expect(l >= 0 && l < classes).toBe(true);
      expect(new Set(a.test.labels).size).toBe(classes);
      const again = miniVtabSplits(name, { _tag: "Vtab1k", train: 5, val: 0 }, 0, 5);
      expect(again.train.images).toEqual(a.train.images.slice(0, 5));
      const other = miniVtabSplits(name, { _tag: "Vtab1k", train: 5, val: 0 }, 1, 5);
      expect(other.train.images).not.toEqual(again.train.images);
    });
  }

  it("k-shot takes exactly k examples of every class and a disjoint validation set", () => {
    for (const shots of [1, 2, 4, 8, 16]) {
      for (const name of ["digits", "location"] as const) {
        const s = miniVtabSplits(name, { _tag: "FewShot", shots, val: 20 }, 0, 10);
        const counts = new Array(miniVtabTasks[name].classes).fill(0);
        for (const l of s.train.labels) counts[l] += 1;
        expect(counts.every((c) => c === shots)).toBe(true);
        expect(s.val.images.length).toBe(20);
        // Real images never repeat; a procedural scene may redraw a pixel-identical one.
        const train = new Set(s.train.images.map((i) => i.join()));
        if (name === "digits") expect(s.val.images.some((i) => train.has(i.join()))).toBe(false);
      }
    }
  });

  it("digit tasks test on images that no training split holds, and the shifts are what they say", () => {
    const digits = miniVtabSplits("digits", vtab, 0, 2000);
    const train = new Set([...digits.train.images, ...digits.val.images].map((i) => i.join()));
    expect(digits.test.images.filter((i) => train.has(i.join()))).toHaveLength(0);
    const inverted = miniVtabSplits("inverted", vtab, 0, 10);
    inverted.train.images.forEach((img, k) => expect(img.every((v, i) => Math.abs(v - (1 - digits.train.images[k]![i]!)) < 1e-6)).toBe(true));
    expect(inverted.train.labels).toEqual(digits.train.labels.slice(0, 800));
    const parity = miniVtabSplits("parity", vtab, 0, 10);
    expect(parity.train.labels).toEqual(digits.train.labels.map((l) => ((l + 5) % 2 === 1 ? 0 : 1)));
  });

  it("structured labels agree with what a brute-force reading of the image finds", () => {
    const count = miniVtabSplits("count", { _tag: "Vtab1k", train: 200, val: 0 }, 3, 1);
    count.train.images.forEach((img, k) => expect(components(img).length).toBe(count.train.labels[k]! + 1));
    const location = miniVtabSplits("location", { _tag: "Vtab1k", train: 200, val: 0 }, 3, 1);
    location.train.images.forEach((img, k) => {
      const [x, y] = centroid(components(img)[0]!);
      expect(Math.floor(y / (28 / 3)) * 3 + Math.floor(x / (28 / 3))).toBe(location.train.labels[k]);
    });
    const distance = miniVtabSplits("distance", { _tag: "Vtab1k", train: 200, val: 0 }, 3, 1);
    distance.train.images.forEach((img, k) => {
      const parts = components(img);
      if (parts.length !== 2) return; // touching dots (bin 0 only) merge into one region
      const [a, b] = parts.map(centroid);
      const d = Math.hypot(a![0] - b![0], a![1] - b![1]);
      expect(Math.abs(d - (6.5 + 5 * distance.train.labels[k]!))).toBeLessThanOrEqual(3);
    });
    const orientation = miniVtabSplits("orientation", { _tag: "Vtab1k", train: 200, val: 0 }, 3, 1);
    orientation.train.images.forEach((img, k) => {
      const region = components(img)[0]!;
      const [cx, cy] = centroid(region);
      let sxx = 0,
        syy = 0,
        sxy = 0;
      for (const [x, y] of region) {
        sxx += (x + 0.5 - cx) ** 2;
        syy += (y + 0.5 - cy) ** 2;
        sxy += (x + 0.5 - cx) * (y + 0.5 - cy);
      }
      const angle = (0.5 * Math.atan2(2 * sxy, sxx - syy) + Math.PI) % Math.PI;
      const centre = ((orientation.train.labels[k]! + 0.5) * Math.PI) / 8;
      const gap = Math.min(Math.abs(angle - centre), Math.PI - Math.abs(angle - centre));
      expect(gap).toBeLessThanOrEqual(Math.PI / 16 + 0.12);
    });
  });
});

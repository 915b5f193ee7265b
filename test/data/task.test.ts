import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { buildTask, type InMemoryTask } from "../../src/data/task.js";
import { mnist } from "../../src/data/mnist.js";
import { epochBatches } from "../../src/data/dataset.js";
import { demoConfig } from "../../src/cli/commands/pretrain.js";

const config = demoConfig(3);
const digits = [7, 2, 9];
const vtab = (seed: number): InMemoryTask => ({ _tag: "Mnist", digits, split: { _tag: "Vtab1k", train: 300, val: 100 }, seed, testLimit: null });
const size = 28 * 28;
const hashOf = (images: Float32Array, i: number) =>
  createHash("sha1")
    .update(images.subarray(i * size, (i + 1) * size))
    .digest("hex");

/** Every image of the raw split, by content hash → its digit (found by brute force, not through the sampler). */
const rawDigits = (split: "train" | "test"): Map<string, number> => {
  const raw = mnist(split);
  const images = new Float32Array(raw.count * size);
  for (let i = 0; i < raw.count * size; i++) images[i] = (raw.images[i]! / 255 - 0.1307) / 0.3081;
  const out = new Map<string, number>();
  for (let i = 0; i < raw.count; i++) out.set(hashOf(images, i), raw.labels[i]!);
  return out;
};

describe("MNIST tasks", () => {
  const train = rawDigits("train");
  const test = rawDigits("test");

  it("draw a VTAB-1k split that is fixed by its seed, disjoint, and labelled in `digits` order", () => {
    const a = buildTask(vtab(1), config);
    const b = buildTask(vtab(1), config);
    const c = buildTask(vtab(2), config);
    expect(a.train.images).toEqual(b.train.images);
    expect(a.val.labels).toEqual(b.val.labels);
    expect(a.train.images).not.toEqual(c.train.images);
    expect([a.train.count, a.val.count, a.classes]).toEqual([300, 100, 3]);
    const trainHashes = new Set<string>();
    for (let i = 0; i < a.train.count; i++) {
      const h = hashOf(a.train.images, i);
      trainHashes.add(h);
      expect(digits[a.train.labels[i]!]).toBe(train.get(h));
    }
    for (let i = 0; i < a.val.count; i++) {
      const h = hashOf(a.val.images, i);
      expect(trainHashes.has(h)).toBe(false);
      expect(digits[a.val.labels[i]!]).toBe(train.get(h));
    }
  });

  it("test on the whole standard test split of the digits", () => {
    const t = buildTask(vtab(0), config).test;
    const raw = mnist("test");
    const expected = Array.from(raw.labels).filter((l) => digits.includes(l)).length;
    expect(t.count).toBe(expected);
    for (let i = 0; i < t.count; i += 97) expect(digits[t.labels[i]!]).toBe(test.get(hashOf(t.images, i)));
  });

  it("take exactly k shots per class in few-shot splits", () => {
    const t = buildTask({ _tag: "Mnist", digits, split: { _tag: "FewShot", shots: 4, val: 10 }, seed: 3, testLimit: 50 }, config);
    expect([...t.train.labels].sort()).toEqual([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    expect([t.val.count, t.test.count]).toEqual([10, 50]);
  });

  it("refuse a split larger than the data", () => {
    expect(() => buildTask({ ...vtab(0), split: { _tag: "Vtab1k", train: 20000, val: 200 } }, config)).toThrowError(/data.split asks for 20200 examples/);
  });

  it("replay the same batch order for the same (seed, epoch), and visit every example once an epoch", () => {
    const t = buildTask(vtab(0), config).train;
    const order = (seed: number, epoch: number) => epochBatches(t, 64, seed, epoch).flatMap((b) => [...b.labels]);
    expect(order(5, 3)).toEqual(order(5, 3));
    expect(order(5, 3)).not.toEqual(order(5, 4));
    expect([...order(5, 3)].sort()).toEqual([...t.labels].sort());
    expect(epochBatches(t, 64, 5, 3).map((b) => b.count)).toEqual([64, 64, 64, 64, 44]);
  });
});

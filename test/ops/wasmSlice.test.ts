import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { useBackend } from "../support/backend.js";

/** The block begin/size of a row-major array, element by element (brute force). */
const block = (values: ArrayLike<number>, shape: number[], begin: number[], size: number[]): number[] => {
  const out: number[] = [];
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const visit = (axis: number, offset: number) => {
    if (axis === shape.length) return void out.push(values[offset]!);
    for (let i = 0; i < size[axis]!; i++) visit(axis + 1, offset + (begin[axis]! + i) * strides[axis]!);
  };
  visit(0, 0);
  return out;
};

const shapeAndBlock = fc
  .array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 5 })
  .chain((shape) =>
    fc
      .tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }).chain((b) => fc.tuple(fc.constant(b), fc.integer({ min: 0, max: d - b })))))
      .map((bs) => ({ shape, begin: bs.map(([b]) => b), size: bs.map(([, s]) => s) })),
  );

describe("Slice, SplitV and PadV2 on wasm copy inside the heap", () => {
  useBackend("wasm");

  it("a slice of any rank, offset and size equals the brute-force block, for float32, int32 and bool", () => {
    fc.assert(
      fc.property(shapeAndBlock, fc.constantFrom<tf.DataType>("float32", "int32", "bool"), ({ shape, begin, size }, dtype) => {
        const count = shape.reduce((p, d) => p * d, 1);
        const values = Array.from({ length: count }, (_, i) => (dtype === "bool" ? i % 3 === 0 : dtype === "int32" ? i * 7 - 50 : i * 0.25 - 3)).map(Number);
        const x = tf.tensor(values, shape, dtype);
        const y = tf.slice(x, begin, size);
        expect(y.shape).toEqual(size);
        expect(Array.from(y.dataSync())).toEqual(block(values, shape, begin, size));
        tf.dispose([x, y]);
      }),
      { numRuns: 300 },
    );
  });

  it("a pad of any rank equals the brute-force padded array (the constant around x), for float32 and int32", () => {
    const padded = fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })), {
      minLength: 1,
      maxLength: 4,
    });
    fc.assert(
      fc.property(padded, fc.constantFrom<tf.DataType>("float32", "int32"), fc.constantFrom(0, 1.5, -2), (axes, dtype, value) => {
        const shape = axes.map(([d]) => d);
        const paddings = axes.map(([, before, after]) => [before, after] as [number, number]);
        const values = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => i - 3);
        const x = tf.tensor(values, shape, dtype);
        const y = tf.pad(x, paddings, value);
        const outShape = shape.map((d, a) => paddings[a]![0] + d + paddings[a]![1]);
        const expected: number[] = [];
        const visit = (axis: number, index: number[]) => {
          if (axis === outShape.length) {
            const inside = index.every((i, a) => i >= paddings[a]![0] && i < paddings[a]![0] + shape[a]!);
            const flat = index.reduce((f, i, a) => f * shape[a]! + (i - paddings[a]![0]), 0);
            return void expected.push(inside ? values[flat]! : dtype === "int32" ? Math.trunc(value) : value);
          }
          for (let i = 0; i < outShape[axis]!; i++) visit(axis + 1, [...index, i]);
        };
        visit(0, []);
        expect(y.shape).toEqual(outShape);
        expect(Array.from(y.dataSync())).toEqual(expected);
        tf.dispose([x, y]);
      }),
      { numRuns: 200 },
    );
  });

  it("a split along any axis gives the brute-force blocks in order", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }), fc.nat(), fc.nat(), (shape, pickAxis, cut) => {
        const axis = pickAxis % shape.length;
        const first = cut % (shape[axis]! + 1);
        const values = Array.from({ length: shape.reduce((p, d) => p * d, 1) }, (_, i) => i);
        const x = tf.tensor(values, shape, "float32");
        const parts = tf.split(x, [first, shape[axis]! - first], axis);
        const begin = shape.map(() => 0);
        parts.forEach((part, i) => {
          const size = shape.map((d, a) => (a === axis ? (i === 0 ? first : d - first) : d));
          if (i === 1) begin[axis] = first;
          expect(Array.from(part.dataSync())).toEqual(block(values, shape, begin, size));
        });
        tf.dispose([x, ...parts]);
      }),
      { numRuns: 200 },
    );
  });

  it("is what the model uses on wasm", () => {
    const x = tf.tensor2d([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const [a, b] = tf.split(x, [1, 2], 1);
    expect(Array.from(b!.dataSync())).toEqual([2, 3, 5, 6]);
    expect(tf.getKernel("Slice", "wasm")!.kernelFunc.name).not.toBe("slice");
    tf.dispose([x, a!, b!]);
  });
});

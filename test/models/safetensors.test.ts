import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { readSafetensors, SafetensorsError, toFloat32, toInt32, writeSafetensors } from "../../src/models/safetensors.js";

/** A file written by hand, so the reader is tested against the format, not against our writer. */
const handMade = (header: unknown, data: Uint8Array, padTo8 = true): Uint8Array => {
  let json = JSON.stringify(header);
  if (padTo8) json += " ".repeat((8 - (json.length % 8)) % 8);
  const h = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + h.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.byteLength), true);
  out.set(h, 8);
  out.set(data, 8 + h.byteLength);
  return out;
};

const halves = (bits: readonly number[]): Float32Array => {
  const file = handMade({ h: { dtype: "F16", shape: [bits.length], data_offsets: [0, 2 * bits.length] } }, new Uint8Array(Uint16Array.from(bits).buffer));
  return toFloat32(readSafetensors(file).tensors.get("h")!);
};

const bitsOf = (values: Float32Array, dtype: "F16" | "BF16"): number[] => {
  const file = readSafetensors(writeSafetensors([{ name: "x", shape: [values.length], data: values, dtype }]));
  const raw = file.tensors.get("x")!;
  expect(raw.dtype).toBe(dtype);
  return [...new Uint16Array(raw.bytes.slice().buffer)];
};

describe("safetensors reader", () => {
  it("reads a hand-made file with metadata, F32, F16, BF16 and I64 tensors", () => {
    const data = new Uint8Array(4 * 2 + 2 * 2 + 2 * 1 + 8 * 1);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2, true);
    dv.setUint16(8, 0x3c00, true); // 1.0 in half
    dv.setUint16(10, 0xc000, true); // -2.0 in half
    dv.setUint16(12, 0x4049, true); // 3.140625 in bfloat16
    dv.setBigInt64(14, -7n, true);
    const file = readSafetensors(
      handMade(
        {
          __metadata__: { config: "{}" },
          a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
          b: { dtype: "F16", shape: [2, 1], data_offsets: [8, 12] },
          c: { dtype: "BF16", shape: [], data_offsets: [12, 14] },
          d: { dtype: "I64", shape: [1], data_offsets: [14, 22] },
        },
        data,
      ),
    );
    expect(file.metadata).toEqual({ config: "{}" });
    expect([...toFloat32(file.tensors.get("a")!)]).toEqual([1.5, -2]);
    expect([...toFloat32(file.tensors.get("b")!)]).toEqual([1, -2]);
    expect(file.tensors.get("b")!.shape).toEqual([2, 1]);
    expect([...toFloat32(file.tensors.get("c")!)]).toEqual([3.140625]);
    expect([...toInt32(file.tensors.get("d")!)]).toEqual([-7]);
  });

  const corrupt: Array<[string, Uint8Array, RegExp]> = [
    ["too short", new Uint8Array(5), /too short/],
    [
      "header length beyond the limit",
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true);
        return b;
      })(),
      /exceeds/,
    ],
    [
      "header length past the end",
      (() => {
        const b = new Uint8Array(16);
        new DataView(b.buffer).setBigUint64(0, 100n, true);
        return b;
      })(),
      /past the end/,
    ],
    ["header not JSON", handMade("x", new Uint8Array(0)).map((v, i) => (i === 8 ? 0x7b : v)), /not valid UTF-8 JSON|must be a JSON object/],
    ["header an array", handMade([1], new Uint8Array(0)), /must be a JSON object/],
    ["unknown dtype", handMade({ a: { dtype: "F8", shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)), /unsupported dtype "F8"/],
    ["negative dimension", handMade({ a: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /non-negative integers/],
    ["shape/bytes mismatch", handMade({ a: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8)), /12 bytes.*span 8/],
    ["a span longer than its shape", handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 12] } }, new Uint8Array(12)), /8 bytes.*span 12/],
    ["offsets past the data", handMade({ a: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8)), /past the 8-byte data section/],
    ["begin > end", handMade({ a: { dtype: "U8", shape: [0], data_offsets: [4, 0] } }, new Uint8Array(4)), /begin 4 > end 0/],
    [
      "overlap",
      handMade({ a: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, b: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)),
      /overlaps/,
    ],
    ["a gap", handMade({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /unused bytes/],
    ["trailing bytes", handMade({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /after the last tensor/],
    ["huge shape (no allocation)", handMade({ a: { dtype: "F32", shape: [2 ** 40, 2 ** 40], data_offsets: [0, 4] } }, new Uint8Array(4)), /span 4 bytes/],
    ["non-string metadata", handMade({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__.a must be a string/],
    ["unknown entry field", handMade({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4], x: 1 } }, new Uint8Array(4)), /unknown field "x"/],
  ];
  for (const [what, bytes, message] of corrupt) {
    it(`refuses a corrupt file: ${what}`, () => {
      expect(() => readSafetensors(bytes, "f.safetensors")).toThrowError(SafetensorsError);
      expect(() => readSafetensors(bytes, "f.safetensors")).toThrowError(message);
    });
  }

  it("never fails with anything but SafetensorsError on mutated or truncated files", () => {
    const good = writeSafetensors(
      [
        { name: "w", shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        { name: "i", shape: [2], data: Int32Array.from([7, 8]) },
      ],
      { config: '{"a":1}' },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.nat(good.length),
        (edits, cut) => {
          const bytes = good.slice(0, Math.max(cut, 8));
          for (const [at, v] of edits) if (at < bytes.length) bytes[at] = v;
          try {
            const file = readSafetensors(bytes);
            for (const t of file.tensors.values()) expect(t.bytes.byteLength).toBeLessThanOrEqual(bytes.byteLength);
          } catch (e) {
            expect(e).toBeInstanceOf(SafetensorsError);
          }
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});

describe("safetensors writer", () => {
  it("round-trips F32 and I32 tensors and metadata", () => {
    fc.assert(
      fc.property(
        fc.array(fc.float({ noNaN: true }), { maxLength: 40 }),
        fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { maxLength: 9 }),
        fc.dictionary(fc.string(), fc.string()),
        (floats, ints, metadata) => {
          const f = Float32Array.from(floats);
          const file = readSafetensors(
            writeSafetensors(
              [
                { name: "f", shape: [f.length], data: f },
                { name: "i", shape: [1, ints.length], data: Int32Array.from(ints) },
              ],
              metadata,
            ),
          );
          expect(toFloat32(file.tensors.get("f")!)).toEqual(f);
          expect([...toInt32(file.tensors.get("i")!)]).toEqual(ints);
          expect(file.metadata).toEqual(Object.keys(metadata).length > 0 ? metadata : {});
        },
      ),
      { numRuns: 200, seed: 3 },
    );
  });

  it("writes F16 exactly for every finite half value, and as the nearest half (ties to even) otherwise", () => {
    const all = Array.from({ length: 65536 }, (_, b) => b).filter((b) => (b & 0x7c00) !== 0x7c00);
    const values = halves(all);
    expect(bitsOf(values, "F16")).toEqual(all.map((b) => (b === 0x8000 ? 0x8000 : b)));
    const positive = all.filter((b) => b < 0x8000);
    const grid = halves(positive);
    fc.assert(
      fc.property(fc.float({ min: 0, max: 65504, noNaN: true }), (x) => {
        const [bits] = bitsOf(Float32Array.of(x), "F16");
        const xf = Math.fround(x);
        let best = 0;
        for (let i = 1; i < grid.length; i++) {
          const d = Math.abs(grid[i]! - xf) - Math.abs(grid[best]! - xf);
          if (d < 0 || (d === 0 && (positive[i]! & 1) === 0)) best = i;
        }
        expect(bits).toBe(positive[best]);
      }),
      { numRuns: 300, seed: 11 },
    );
    expect(bitsOf(Float32Array.of(1e6, -1e6, Infinity, NaN), "F16").map((b) => b.toString(16))).toEqual(["7c00", "fc00", "7c00", "7e00"]);
  });

  it("writes BF16 as float32 rounded to the top 16 bits, ties to even", () => {
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0x7f7fffff }), (b) => {
        u[0] = b;
        const [bits] = bitsOf(f, "BF16");
        const lower = b >>> 16;
        const rest = b & 0xffff;
        const expected = rest > 0x8000 || (rest === 0x8000 && (lower & 1) === 1) ? lower + 1 : lower;
        expect(bits).toBe(expected);
      }),
      { numRuns: 500, seed: 5 },
    );
  });

  it("refuses a shape that does not match the data, and duplicate names", () => {
    expect(() => writeSafetensors([{ name: "a", shape: [3], data: new Float32Array(2) }])).toThrowError(/needs 3 values, got 2/);
    expect(() =>
      writeSafetensors([
        { name: "a", shape: [1], data: new Float32Array(1) },
        { name: "a", shape: [1], data: new Float32Array(1) },
      ]),
    ).toThrowError(/duplicate/);
  });
});

import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { composedLayerNorm, layerNorm } from "../../src/ops/layerNorm.js";
import { composedGelu, gelu } from "../../src/ops/gelu.js";
import { nativeAddon } from "../../src/ops/nativeAddon.js";
import { openBlas } from "../../src/ops/openBlas.js";
import { useBackend } from "../support/backend.js";
import { expectClose } from "../support/close.js";
import { expectGeluMatchesDefinition, expectLayerNormMatchesDefinition } from "../support/normKernels.js";

// .ci/run sets PEFT_REQUIRE_NATIVE=1 (its machines have node-gyp's compiler), so there these cannot skip.
const native = nativeAddon();
const required = process.env.PEFT_REQUIRE_NATIVE === "1";

describe.skipIf(!("addon" in native) && !required)(
  "GELU, LayerNorm and transposes on the wasm backend through the native addon (native/gelu.c, native/layerNorm.c, native/transpose.c)",
  () => {
    useBackend("wasm");

    it("loads the addon", () => expect("reason" in native ? native.reason : null).toBeNull());

    it("GELU equals x Φ(x) and its derivative Φ(x) + x φ(x) in float64, over ±8 and around 0, and passes NaN and +∞ through", async () => {
      await expectGeluMatchesDefinition();
      expect(Array.from(gelu(tf.tensor1d([NaN, Infinity, 0])).dataSync())).toEqual([NaN, Infinity, 0]);
    });

    it("LayerNorm's value and gradients (dx, dγ, dβ) equal float64 central differences of the definition (37 columns: the vector loops' remainders), a row of NaN stays NaN", async () => {
      await expectLayerNormMatchesDefinition(6, 37, 13);
      const poisoned = layerNorm(tf.tensor2d([1, NaN, 3, 1, 2, 3], [2, 3]), tf.ones([3]), tf.zeros([3]), 1e-6).dataSync();
      expect(Array.from(poisoned.subarray(0, 3)).every(Number.isNaN)).toBe(true);
      expect(Array.from(poisoned.subarray(3)).every(Number.isFinite)).toBe(true);
    });

    it("works on the heap as it is after its outputs are made: an output that grows the heap", () => {
      // 2^22 floats each: the outputs no longer fit the heap the inputs were made in.
      const x = tf.randomUniform([1024, 4096], -3, 3, "float32", 5) as tf.Tensor2D;
      const [g, b] = [tf.randomUniform([4096], 0.5, 1.5, "float32", 6), tf.randomUniform([4096], -1, 1, "float32", 7)];
      for (const [fused, composed] of [
        [gelu(x), composedGelu(x)],
        [layerNorm(x, g, b, 1e-6), composedLayerNorm(x, g, b, 1e-6)],
      ] as const) {
        // First and last rows: GELU of this size is shared between threads.
        const [f, c] = [fused.dataSync(), composed.dataSync()];
        expectClose(f.subarray(0, 1 << 16), c.subarray(0, 1 << 16), { atol: 2e-5, rtol: 1e-5 }, "first rows");
        expectClose(f.subarray(-(1 << 16)), c.subarray(-(1 << 16)), { atol: 2e-5, rtol: 1e-5 }, "last rows");
        tf.dispose([fused, composed]);
      }
      tf.dispose([x, g, b]);
    });

    it("transposes equal an index-by-index permutation: float32 and int32, ranks 2 to 6, the last axis kept (native) or moved (tfjs's)", () => {
      const permuted = (x: Float32Array | Int32Array, shape: number[], perm: number[]) => {
        const out = new (x.constructor as Float32ArrayConstructor | Int32ArrayConstructor)(x.length);
        const [inStrides, outShape] = [tf.util.computeStrides(shape), perm.map((a) => shape[a]!)];
        const outStrides = tf.util.computeStrides(outShape);
        for (let i = 0; i < x.length; i++) {
          let from = 0;
          for (let a = 0, rest = i; a < outShape.length; a++) {
            const index = a === outShape.length - 1 ? rest : Math.floor(rest / outStrides[a]!);
            rest -= index * (outStrides[a] ?? 1);
            from += index * (perm[a] === shape.length - 1 ? 1 : inStrides[perm[a]!]!);
          }
          out[i] = x[from]!;
        }
        return out;
      };
      const cases: [number[], number[]][] = [
        [
          [16, 5, 3, 3, 4],
          [2, 0, 3, 1, 4],
        ],
        [
          [3, 4, 2, 5, 4],
          [1, 3, 0, 2, 4],
        ],
        [
          [4, 1, 3, 6],
          [0, 2, 1, 3],
        ],
        [
          [2, 3, 1, 2, 2, 3],
          [4, 3, 2, 1, 0, 5],
        ],
        [
          [7, 5],
          [0, 1],
        ],
        [
          [7, 5],
          [1, 0],
        ],
        [
          [2, 3, 4, 5],
          [0, 1, 3, 2],
        ],
      ];
      for (const [shape, perm] of cases)
        for (const dtype of ["float32", "int32"] as const) {
          const x = tf.tidy(() => tf.cast(tf.mul(tf.randomUniform(shape, -1, 1, "float32", 3), dtype === "int32" ? 1000 : 1), dtype));
          const values = x.dataSync() as Float32Array | Int32Array;
          const y = tf.transpose(x, perm);
          expect(y.shape).toEqual(perm.map((a) => shape[a]));
          expect(Array.from(y.dataSync())).toEqual(Array.from(permuted(values, shape, perm)));
          tf.dispose([x, y]);
        }
    });

    it("refuses calls whose operands reach outside the heap, before touching it", () => {
      if (!("addon" in native)) throw new Error(native.reason);
      const heap = new Float32Array(32).fill(3);
      expect(() => native.addon.gelu(heap, 0, 4 * 20, 16, 2)).toThrow(/inside the heap/);
      expect(() => native.addon.geluGrad(heap, 0, 0, 4 * 30, 4, 2)).toThrow(/inside the heap/);
      expect(() => native.addon.layerNorm(heap, 0, 0, 0, 4 * 24, 3, 4, 1e-6)).toThrow(/inside the heap/);
      expect(() => native.addon.layerNormGrad(heap, 0, 0, 0, 4 * 16, 4 * 30, 0, 4, 4, 1e-6)).toThrow(/inside the heap/);
      expect(() => native.addon.permute(heap, 0, 4 * 20, [4, 4], [0, 1])).toThrow(/inside the heap/);
      if (openBlas(1).loaded) {
        // qkv and d qkv 2 × 6 = 12 floats, probabilities 8: from 28 and 24 they run past 32.
        expect(() => native.addon.attention(heap, 0, 0, 4 * 28, 1, 2, 2, 1, 2, 1)).toThrow(/inside the heap/);
        expect(() => native.addon.attentionGrad(heap, 0, 0, 0, 0, 4 * 24, false, 1, 2, 2, 1, 2, 1)).toThrow(/inside the heap/);
      }
      expect(() => native.addon.permute(heap, 0, 4 * 16, [2, 2, 2], [1, 1, 2])).toThrow(/permutation/);
      expect(() => native.addon.permute(heap, 0, 4 * 16, [4, 4], [1, 0])).toThrow(/last axis/);
      expect(heap.every((v) => v === 3)).toBe(true);
    });
  },
);

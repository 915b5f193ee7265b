import * as tf from "@tensorflow/tfjs-core";
import { composedLayerNorm, layerNorm } from "../../src/ops/layerNorm.js";
import { composedGelu, gelu } from "../../src/ops/gelu.js";
import { erf64 } from "../../src/interpreters/reference/erf64.js";
import { rng } from "../../src/util/random.js";
import { expectClose } from "./close.js";
import { numericGradient, weightedLayerNorm64 } from "./reference64.js";

/*
 * The checks every backend's LayerNorm and GELU kernels pass (wasm, native, WebGPU), on the
 * current backend; asynchronous reads, which WebGPU needs.
 */

/** LayerNorm's value and dx, dγ, dβ against float64 central differences of the definition; rows of different offsets and scales, γ and β far from 1 and 0. */
export const expectLayerNormMatchesDefinition = async (rows: number, d: number, seed: number): Promise<void> => {
  const eps = 1e-6;
  const r = rng(seed, "layer-norm");
  const x64 = Float64Array.from({ length: rows * d }, (_, k) => 3 * Math.floor(k / d) - 9 + (1 + Math.floor(k / d)) * r.normal());
  const gamma64 = Float64Array.from({ length: d }, () => 1 + r.normal());
  const beta64 = Float64Array.from({ length: d }, () => r.normal());
  const w64 = Float64Array.from({ length: rows * d }, () => r.normal());
  const [x, gamma, beta, w] = [
    tf.tensor2d(Float32Array.from(x64), [rows, d]),
    tf.tensor1d(Float32Array.from(gamma64)),
    tf.tensor1d(Float32Array.from(beta64)),
    tf.tensor2d(Float32Array.from(w64), [rows, d]),
  ];
  const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(layerNorm(a as tf.Tensor2D, g, b, eps), w));
  const [dx, dgamma, dbeta] = tf.grads(loss)([x, gamma, beta]);
  const f = (xs: Float64Array, gs: Float64Array, bs: Float64Array) => weightedLayerNorm64(xs, gs, bs, w64, rows, d, eps);
  const tol = { atol: 2e-4, rtol: 1e-3 };
  expectClose(await loss(x, gamma, beta).data(), [f(x64, gamma64, beta64)], { atol: 1e-3, rtol: 1e-5 }, "value");
  expectClose(
    await dx!.data(),
    numericGradient((v) => f(v, gamma64, beta64), x64),
    tol,
    "dx",
  );
  expectClose(
    await dgamma!.data(),
    numericGradient((v) => f(x64, v, beta64), gamma64),
    tol,
    "dγ",
  );
  expectClose(
    await dbeta!.data(),
    numericGradient((v) => f(x64, gamma64, v), beta64),
    tol,
    "dβ",
  );
  expectClose(
    await layerNorm(x, gamma, beta, eps).data(),
    await composedLayerNorm(x, gamma, beta, eps).data(),
    // Float32 sums over a row in another order (the native kernel's are vectorised).
    { atol: 2e-5, rtol: 1e-5 },
    "fused vs composed",
  );
  tf.dispose([x, gamma, beta, w, dx!, dgamma!, dbeta!]);
};

/** GELU x Φ(x) and its derivative Φ(x) + x φ(x) against float64 over ±8 and around 0, and against the composed ops. */
export const expectGeluMatchesDefinition = async (): Promise<void> => {
  const xs = Float32Array.from({ length: 4001 }, (_, i) => -8 + (16 * i) / 4000);
  const x = tf.tensor1d(xs);
  const dy = tf.randomUniform([xs.length], -2, 2, "float32", 3) as tf.Tensor1D;
  const grads = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gelu(t), dy)))(x);
  const cdf = (v: number) => 0.5 * (1 + erf64(v / Math.SQRT2));
  const pdf = (v: number) => Math.exp(-0.5 * v * v) / Math.sqrt(2 * Math.PI);
  expectClose(
    await gelu(x).data(),
    Array.from(xs, (v) => v * cdf(v)),
    { atol: 2e-6, rtol: 1e-6 },
    "GELU",
  );
  const d = await dy.data();
  expectClose(
    await grads.data(),
    Array.from(xs, (v, i) => d[i]! * (cdf(v) + v * pdf(v))),
    { atol: 4e-6, rtol: 1e-5 },
    "GELU gradient",
  );
  expectClose(await gelu(x).data(), await composedGelu(x).data(), { atol: 2e-6, rtol: 1e-6 }, "fused vs composed");
  tf.dispose([x, dy, grads]);
};

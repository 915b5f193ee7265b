import * as tf from "@tensorflow/tfjs-core";
import "../src/ops/gradients.js";
import { referenceForward } from "../src/interpreters/reference/forward.js";
import type { AdapterValue } from "../src/interpreters/adapterParams.js";
import { rng } from "../src/util/random.js";
import type { Law } from "./law.js";
import { withProgram } from "./harness.js";
import { randomAdapterValues } from "./setting.js";
import { randomLossValues, referenceLossTerms } from "./referenceLosses.js";
import { holds } from "./violation.js";

/** Adapter scalars probed per check. */
const probes = 4;

/**
 * The compiled program's gradient (custom ops, index ops, the host FFT, the loss terms) against
 * central finite differences of the float64 reference, for L = Σ logits ⊙ R + Σ c_i L_i with
 * random R and c. Tensors under `quantized` are left out, and so is a BAFT term with detached
 * predictions: their gradients are by design not derivatives.
 */
export const gradientAgreement: Law = {
  name: "gradient ≈ float64 finite differences",
  statement:
    "the compiled gradient of a random linear function of the logits and the loss terms matches central differences of the float64 reference (straight-through tensors and stop-gradients excepted)",
  check: async (method, config, seed) =>
    withProgram(method, config, seed, async ({ backbone, program, images, imageData }) => {
      const probed = [...program.params.filter((p) => p.trainable && !p.leaf?.quantized), ...program.lossParams.filter((p) => p.trainable)];
      if (probed.length === 0) return;
      const values = new Map([...(await randomAdapterValues(program, backbone.weights, seed)), ...randomLossValues(program, seed)]);
      program.setValues(values);
      const r = rng(seed, "gradient-law");
      const n = images.shape[0];
      const weights = Float64Array.from({ length: n * config.classes }, () => r.normal());
      const termWeights = method.losses.map((l) => (l._tag === "Baft" && l.detachPredictions ? 0 : r.normal()));
      const grads = tf.tidy(() => {
        const target = tf.tensor2d(Float32Array.from(weights), [n, config.classes]);
        const vars = probed.map((p) => program.variables.get(p.name)!);
        const { grads: g } = tf.variableGrads(() => {
          const out = program.forward(images);
          const terms = termWeights.flatMap((c, i) => (c === 0 ? [] : [tf.mul(program.lossTerm(i, out, images), c)]));
          return tf.addN([tf.sum(tf.mul(out.logits, target)), ...terms]) as tf.Scalar;
        }, vars);
        return probed.map((p, i) => tf.keep(g[vars[i]!.name] ?? tf.zeros(vars[i]!.shape)));
      });
      const images64 = Float64Array.from(imageData);
      const loss64 = (adapter: ReadonlyMap<string, AdapterValue>): number =>
        referenceForward(method, backbone, adapter, images64, n).logits.reduce((s, v, i) => s + v * weights[i]!, 0) +
        referenceLossTerms(method, backbone, adapter, images64, n).reduce((s, v, i) => s + termWeights[i]! * v, 0);
      try {
        for (let k = 0; k < probes; k++) {
          const which = Math.floor(r.uniform() * probed.length);
          const p = probed[which]!;
          const base = values.get(p.name) as Float32Array;
          const at = Math.floor(r.uniform() * base.length);
          const step = 1e-4 * Math.max(1, Math.abs(base[at]!));
          // The perturbed values are float32: use the steps that were actually taken.
          const up = Math.fround(base[at]! + step);
          const down = Math.fround(base[at]! - step);
          const moved = (v: number) =>
            new Map(values).set(
              p.name,
              Float32Array.from(base, (x, i) => (i === at ? v : x)),
            );
          const fd = (loss64(moved(up)) - loss64(moved(down))) / (up - down);
          const compiled = (grads[which]!.dataSync() as Float32Array)[at]!;
          holds(
            Math.abs(compiled - fd) <= 2e-3 * Math.max(1, Math.abs(fd)),
            () => `∂L/∂${p.name}[${at}]: compiled ${compiled}, float64 central difference ${fd}`,
          );
        }
      } finally {
        for (const g of grads) g.dispose();
      }
    }),
};

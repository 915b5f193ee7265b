import * as tf from "@tensorflow/tfjs-core";
import "../../ops/gradients.js";
import { method, target } from "../../dsl/method.js";
import { glob } from "../../dsl/selector.js";
import { full } from "../../dsl/transform.js";
import type { Backbone, HostTensor } from "../../models/backbone.js";
import type { Batch } from "../../data/dataset.js";
import { sizeOf, type Site } from "../../models/vitParams.js";
import { compile, type Program } from "../compile/program.js";
import { programLoss } from "../compile/loss.js";
import type { Counter } from "../../util/counter.js";
import { hostCopy } from "../../util/hostRead.js";

/** Whether a backbone's head is all zeros (a reset head: it passes no gradient to the backbone). */
export const headIsZero = (backbone: Backbone): boolean => backbone.weights.get("head.weight")!.data.every((x) => x === 0);

/** The head whose row c is the mean frozen feature of class c minus the overall mean (bias 0). */
export const classMeanHead = async (program: Program, backbone: Backbone, batches: readonly Batch[], shape: readonly number[]): Promise<Backbone> => {
  const { width, classes } = backbone.config;
  const sums = new Float64Array(classes * width);
  const counts = new Float64Array(classes);
  const all = new Float64Array(width);
  for (const b of batches) {
    const f = tf.tidy(() => program.pretrainedForward(tf.tensor4d(b.images, [b.count, ...shape] as [number, number, number, number])).preLogits);
    const data = await hostCopy(f);
    f.dispose();
    for (let k = 0; k < b.count; k++) {
      const c = b.labels[k]!;
      counts[c]! += 1;
      for (let d = 0; d < width; d++) {
        sums[c * width + d]! += data[k * width + d]!;
        all[d]! += data[k * width + d]!;
      }
    }
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const head = Float32Array.from({ length: classes * width }, (_, i) => {
    const c = Math.floor(i / width);
    return counts[c]! > 0 ? sums[i]! / counts[c]! - all[i % width]! / total : 0;
  });
  const weights = new Map<string, HostTensor>(backbone.weights);
  weights.set("head.weight", { shape: [classes, width], data: head });
  weights.set("head.bias", { shape: [classes], data: new Float32Array(classes) });
  return { config: backbone.config, weights };
};

/** Eq. 4: ΔŴ = −Σ ∇W L of the frozen model over the batches, per site in its [dout, din] view (float64). */
export const preEstimate = async (
  backbone: Backbone,
  sites: readonly Site[],
  batches: readonly Batch[],
  shape: readonly number[],
  progress?: Counter,
): Promise<Map<string, Float64Array>> => {
  const probe = compile(method({ targets: sites.map((s) => target(glob(s.name), full)) }), backbone, { seed: 0 });
  const sums = new Map(sites.map((s) => [s.name, new Float64Array(sizeOf(s.shape))]));
  try {
    const vars = probe.params.map((p) => ({ site: p.placement.site.name, v: probe.variables.get(p.name)! }));
    for (const [n, b] of batches.entries()) {
      const grads = tf.tidy(() => {
        const images = tf.tensor4d(b.images, [b.count, ...shape] as [number, number, number, number]);
        const { grads: g } = tf.variableGrads(
          () => programLoss(probe, images, tf.tensor1d(b.labels, "int32")).total,
          vars.map((x) => x.v),
        );
        return vars.map((x) => tf.keep(g[x.v.name]!));
      });
      for (const [i, g] of grads.entries()) {
        const sum = sums.get(vars[i]!.site)!;
        const data = await hostCopy(g);
        for (let k = 0; k < sum.length; k++) sum[k]! -= data[k]!;
        g.dispose();
      }
      progress?.(n + 1, batches.length);
    }
  } finally {
    probe.dispose();
  }
  return sums;
};

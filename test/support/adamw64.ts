import * as tf from "@tensorflow/tfjs-core";
import { expect } from "vitest";
import { adamW, flatten } from "../../src/ops/adamw.js";
import { rng } from "../../src/util/random.js";
import { expectClose } from "./close.js";

const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.05 };

/** Plain float64 AdamW of one tensor over a sequence of gradients. */
const adamW64 = (p0: readonly number[], grads: readonly (readonly number[])[], lrs: readonly number[], decay: boolean): number[] => {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((g, k) => {
    const step = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = settings.beta1 * m[i]! + (1 - settings.beta1) * g[i]!;
      v[i] = settings.beta2 * v[i]! + (1 - settings.beta2) * g[i]! ** 2;
      const update = m[i]! / (1 - settings.beta1 ** step) / (Math.sqrt(v[i]! / (1 - settings.beta2 ** step)) + settings.eps);
      p[i] = p[i]! - lrs[k]! * (update + (decay ? settings.weightDecay * p[i]! : 0));
    }
  });
  return p;
};

/**
 * AdamW over three tensors as one flat vector on the current backend equals float64 AdamW per
 * tensor (decay only where asked), and a reloaded state continues identically (asynchronous
 * reads, which WebGPU needs).
 */
export const expectAdamWMatchesFloat64 = async (): Promise<void> => {
  const r = rng(4, "adamw");
  const shapes = [[3, 4], [5], [2, 2]];
  const decays = [true, false, true];
  const initial = shapes.map((s) => Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => r.normal()));
  const grads = [0, 1, 2, 3].map(() => initial.map((x) => x.map(() => r.normal())));
  const lrs = [0.1, 0.05, 0.2, 0.01];
  const variables = (values: readonly (readonly number[])[]) => shapes.map((s, i) => [`t${i}`, tf.variable(tf.tensor(values[i]!, s))] as const);
  const tensors = variables(initial);
  const opt = adamW(tensors, decays, settings);
  const apply = (o: typeof opt, k: number) => tf.tidy(() => o.update(flatten(grads[k]!.map((g, i) => tf.tensor(g, shapes[i]))), lrs[k]!, k + 1));
  for (let k = 0; k < 3; k++) apply(opt, k);
  for (const [i, [, t]] of tensors.entries()) {
    expectClose(
      await t.data(),
      adamW64(
        initial[i]!,
        grads.slice(0, 3).map((g) => g[i]!),
        lrs,
        decays[i]!,
      ),
      { atol: 1e-6, rtol: 1e-5 },
      `t${i}`,
    );
  }
  // Resume: a fresh optimizer loaded with the state and the current values takes the same 4th step.
  const resumed = variables(await Promise.all(tensors.map(async ([, t]) => [...(await t.data())])));
  const again = adamW(resumed, decays, settings);
  again.loadState(await opt.state());
  apply(opt, 3);
  apply(again, 3);
  for (const i of [0, 1, 2]) expect([...(await resumed[i]![1].data())]).toEqual([...(await tensors[i]![1].data())]);
  expect(() => again.loadState(new Map())).toThrowError(/optimizer state t0#m is missing/);
  tf.dispose([...tensors, ...resumed].map(([, t]) => t));
  opt.dispose();
  again.dispose();
};

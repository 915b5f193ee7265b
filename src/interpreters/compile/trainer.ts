import * as tf from "@tensorflow/tfjs-core";
import "../../ops/gradients.js";
import { adamW, flatten, type AdamWSettings } from "../../ops/adamw.js";
import { constant } from "../../ops/deviceScalars.js";
import { partition } from "../partition.js";
import { programLoss } from "./loss.js";
import type { Program } from "./program.js";
import type { Counter } from "../../util/counter.js";

export interface StepResult {
  /** The batch loss before the update. */
  readonly loss: number;
  readonly terms: Readonly<Record<string, number>>;
  /** The largest |gradient| entry over all trainable tensors. */
  readonly gradMaxAbs: number;
  /** False when the loss or a gradient was not finite: then no parameter or moment changed. */
  readonly applied: boolean;
}

/** A program's train step: gradients of the loss for the masked variables, then AdamW. */
export interface Trainer {
  /**
   * One update on a batch; `keep` ([n, 2·depth]): stochastic depth's multipliers for it
   * (`dropPathKeep`); `passed` is told as each micro-batch's forward and backward pass is done.
   */
  readonly step: (images: tf.Tensor4D, labels: tf.Tensor1D, lr: number, keep?: tf.Tensor2D, passed?: Counter) => Promise<StepResult>;
  /** Updates applied so far (AdamW's bias-correction counter). */
  readonly steps: () => number;
  /** AdamW moments as host arrays, named `${tensor}#m` and `${tensor}#v`. */
  readonly state: () => Promise<Map<string, Float32Array>>;
  readonly loadState: (state: ReadonlyMap<string, Float32Array>, steps: number) => void;
  readonly dispose: () => void;
}

export interface TrainerSettings extends AdamWSettings {
  /** ε of the cross-entropy's label smoothing. */
  readonly labelSmoothing?: number;
  /**
   * Images per forward/backward pass: a batch runs as micro-batches whose gradients are summed,
   * each weighted by its share of the batch, before one update — the full batch's gradient up to
   * float rounding, for objectives that are means over images (cross-entropy, L2-SP).
   */
  readonly microBatch?: number;
}

/**
 * tf.variableGrads, seeded with a kept 1 where that saves an upload (webgpu; tfjs makes the seed
 * on the host each call): the gradients of the variables the objective reaches, by name.
 */
const variableGradients = (objective: () => tf.Scalar, vars: readonly (readonly [string, tf.Variable])[]) => {
  const seed = constant(1);
  const xs = vars.map(([, v]) => v);
  const { value, grads } = tf.engine().gradients(objective, xs, typeof seed === "number" ? undefined : seed, true);
  const reached: tf.NamedTensorMap = {};
  xs.forEach((v, i) => {
    if (grads[i] != null) reached[v.name] = grads[i]!;
  });
  return { value: value as tf.Scalar, grads: reached };
};

/** The micro-batches [start, size) of a batch of n. */
const chunks = (n: number, size: number): [number, number][] => Array.from({ length: Math.ceil(n / size) }, (_, i) => [i * size, Math.min(size, n - i * size)]);

export const trainer = (program: Program, settings: TrainerSettings): Trainer => {
  const [trainable] = partition(program.variables, program.mask);
  const vars = [...trainable.entries()];
  // Loss-term tensors (RIFT's rotation) are not in `params` and never decay: decay would pull Q to I.
  const decay = new Map(program.params.map((p) => [p.name, p.decay]));
  const optimizer = adamW(
    vars,
    vars.map(([name]) => decay.get(name) ?? false),
    settings,
  );
  let count = 0;
  return {
    step: async (images, labels, lr, keep, passed) => {
      await program.readAhead();
      let names: string[] = [];
      const n = images.shape[0];
      /** One micro-batch's [loss, terms…] and flat gradient, both scaled by its share of the batch. */
      const pass = (start: number, size: number) =>
        tf.tidy(() => {
          const [x, y] = size === n ? [images, labels] : [tf.slice(images, [start, 0, 0, 0], [size, -1, -1, -1]), tf.slice(labels, [start], [size])];
          const k = keep === undefined || size === n ? keep : tf.slice(keep, [start, 0], [size, -1]);
          let parts: tf.Tensor1D | null = null;
          const objective = () => {
            const l = programLoss(program, x, y, settings.labelSmoothing ?? 0, k);
            names = Object.keys(l.terms);
            // variableGrads disposes everything the objective made but its value: keep the terms past it.
            parts = tf.keep(tf.stack(Object.values(l.terms)) as tf.Tensor1D);
            return l.total;
          };
          // A method that trains nothing (the frozen model) still reports its loss.
          const { value, grads: reached } = vars.length === 0 ? { value: objective(), grads: {} as tf.NamedTensorMap } : variableGradients(objective, vars);
          // A variable the objective never reads (RIFT's M under λ = 0) has gradient zero.
          const share = (t: tf.Tensor) => (size === n ? t : tf.mul(t, constant(size / n)));
          const flat = share(flatten(vars.map(([, v]) => reached[v.name] ?? tf.zerosLike(v))));
          const losses = share(tf.concat([tf.reshape(value, [1]), parts!]));
          parts!.dispose();
          return { flat, losses };
        });
      let gradient: tf.Tensor | null = null;
      let read: tf.Tensor | null = null;
      const parts = chunks(n, Math.min(settings.microBatch ?? n, n));
      for (const [k, [start, size]] of parts.entries()) {
        const next = pass(start, size);
        passed?.(k + 1, parts.length);
        if (gradient === null || read === null) {
          [gradient, read] = [next.flat, next.losses];
          continue;
        }
        const sum: [tf.Tensor, tf.Tensor] = [tf.add(gradient, next.flat), tf.add(read, next.losses)];
        tf.dispose([gradient, read, next.flat, next.losses]);
        [gradient, read] = sum;
      }
      const [g, r] = [gradient!, read!];
      const withMax = tf.tidy(() => tf.concat([r, tf.reshape(vars.length === 0 ? tf.scalar(0) : tf.max(tf.abs(g)), [1])]));
      r.dispose();
      // One host read per step (asynchronous: WebGPU has no other): the loss, every term and the largest |gradient|.
      const values = await withMax.data();
      withMax.dispose();
      const loss = values[0]!;
      const terms = Object.fromEntries(names.map((k, i) => [k, values[i + 1]!]));
      const gradMaxAbs = values[names.length + 1]!;
      // A finite loss can still have overflowing gradients; one Inf would poison AdamW's moments.
      const applied = Number.isFinite(loss) && Number.isFinite(gradMaxAbs);
      if (applied) {
        count += 1;
        optimizer.update(g as tf.Tensor1D, lr, count);
      }
      g.dispose();
      return { loss, terms, gradMaxAbs, applied };
    },
    steps: () => count,
    state: optimizer.state,
    loadState: (state, steps) => {
      optimizer.loadState(state);
      count = steps;
    },
    dispose: optimizer.dispose,
  };
};

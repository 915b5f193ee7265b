import type { Method } from "./method.js";

/** How a class-subset task is split, VTAB-1k style or k-shot per class. */
export type Split =
  | { readonly _tag: "Vtab1k"; readonly train: number; readonly val: number }
  | { readonly _tag: "FewShot"; readonly shots: number; readonly val: number };

/** A classification task built from real data. Labels are re-indexed 0..k-1 in `digits` order. */
export type Task = {
  readonly _tag: "Mnist";
  readonly digits: readonly number[];
  readonly split: Split;
  /** Seed of the train/val sampler: fixed across runs, like VTAB-1k's published splits. */
  readonly seed: number;
  /** Cap on test-split size (null: the whole standard test split of those digits). */
  readonly testLimit: number | null;
};

export interface AdamW {
  readonly _tag: "AdamW";
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/** Linear warm-up then cosine decay to `minLr`, stepped per batch. */
export interface Schedule {
  readonly epochs: number;
  readonly batchSize: number;
  readonly warmupEpochs: number;
  readonly minLr: number;
}

export interface Backbone {
  /** A safetensors checkpoint in timm's names, or "default" for the embedded demo backbone. */
  readonly weights: string;
  /** "reset": replace the head by a zero head sized to the task's classes; "keep": use it as is. */
  readonly head: "reset" | "keep";
}

/** Everything that determines a run: rerunning an Experiment reproduces its result. */
export interface Experiment {
  readonly name: string;
  readonly backbone: Backbone;
  readonly data: Task;
  readonly method: Method;
  readonly optimizer: AdamW;
  readonly schedule: Schedule;
  readonly seed: number;
}

export const taskClasses = (task: Task): number => task.digits.length;

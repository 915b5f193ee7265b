import { join } from "node:path";
import type { RepresentationMetrics } from "../interpreters/representation.js";
import type { PreludeRecord } from "../interpreters/rules/prelude.js";
import type { ReconfigurationRecord } from "../interpreters/rules/reconfigure.js";

/*
 * What a finished run leaves in its directory, as the sweep, gather and report read it.
 */

/** One finished epoch, as logged and as kept in checkpoints. */
export interface EpochRecord {
  readonly epoch: number;
  /** Training steps completed by the end of this epoch. */
  readonly steps: number;
  readonly trainLoss: number;
  /** Epoch means of every loss term's unweighted value (cross-entropy as `ce`). */
  readonly terms: Readonly<Record<string, number>>;
  readonly valAccuracy: number;
  readonly lr: number;
  /** Training time, reconfiguration excluded. */
  readonly seconds: number;
  /** Time spent reconfiguring (DAF's perceive, decide, execute) in this epoch. */
  readonly reconfigureSeconds?: number;
  /** Representation metrics after this epoch, when the experiment asks for them every epoch. */
  readonly representation?: RepresentationMetrics;
}

export interface RunResult {
  readonly name: string;
  readonly backend: string;
  readonly trainable: number;
  readonly backboneParams: number;
  readonly trainablePercent: number;
  readonly metrics: { readonly trainLoss: number; readonly valAccuracy: number; readonly testAccuracy: number };
  /** The method's loss terms, each with its weight and its last-epoch mean (unweighted); `ce` first. */
  readonly losses: readonly { readonly name: string; readonly term: string; readonly weight: number; readonly lastEpochMean: number }[];
  /** Sim, token cosine and attention entropy on held-out test images (absent when metrics.examples is 0). */
  readonly representation: RepresentationMetrics | null;
  /** `reconfigureSeconds`: DAF's perceive + decide + execute, not part of `trainSeconds`; `trainImagesPerSecond`: images over the time in train steps, in this process. */
  readonly timings: {
    readonly trainSeconds: number;
    readonly medianStepMs: number;
    readonly trainImagesPerSecond: number;
    readonly testSeconds: number;
    readonly reconfigureSeconds: number;
  };
  /** The process's peak resident memory and, on wasm, the size its heap grew to (bytes). */
  readonly memory: { readonly peakRssBytes: number; readonly wasmHeapBytes: number | null };
  readonly plans: Readonly<Record<string, string>>;
  /** What the method's `once` rules set before training (S²FT's pre-estimate, RIFT's statistics), with provenance. */
  readonly preludes: readonly PreludeRecord[];
  /** Every reconfiguration (DAF): scores, selection, budgets, trainable count, time per phase. */
  readonly reconfigurations: readonly ReconfigurationRecord[];
  readonly history: readonly EpochRecord[];
  /** An image folder's loading: decode time and the images left out (onBadImage "skip"); its class names are in experiment.data.classes. */
  readonly images?: { readonly decodeSeconds: number; readonly cache: "hit" | "written"; readonly skipped: readonly string[] };
  readonly experiment: unknown;
}

export const outputFiles = (dir: string) => ({
  checkpoint: join(dir, "checkpoint.safetensors"),
  result: join(dir, "result.json"),
  adapter: join(dir, "adapter.safetensors"),
  merged: join(dir, "merged.safetensors"),
  timmConfig: join(dir, "config.json"),
  log: join(dir, "log.jsonl"),
  heatmap: join(dir, "configurations.svg"),
});

import { readFileSync } from "node:fs";
import { readSafetensors, toFloat32, toTensorData, writeSafetensors } from "../models/safetensors.js";
import type { AdapterValue } from "../interpreters/adapterParams.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import type { RepresentationMetrics } from "../interpreters/representation.js";

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

/** Everything a run needs to continue exactly where it stopped. */
export interface Checkpoint {
  /** Fingerprint of the experiment; a checkpoint only resumes the run that wrote it. */
  readonly fingerprint: string;
  /** Epochs completed. */
  readonly epochs: number;
  /** Updates the current optimiser has applied (AdamW's bias-correction counter; a reconfiguration restarts it). */
  readonly steps: number;
  readonly history: readonly EpochRecord[];
  /** Records of the rules that ran before training (their state is in `adapter`). */
  readonly preludes: readonly unknown[];
  /** Reconfiguration records (DAF): the last one names the configuration the adapter tensors belong to. */
  readonly reconfigurations: readonly unknown[];
  readonly adapter: ReadonlyMap<string, AdapterValue>;
  readonly optimizer: ReadonlyMap<string, Float32Array>;
}

const shapeOf = (data: AdapterValue) => [data.length];

/** Write atomically: a crash mid-write leaves the previous checkpoint intact. */
export const saveCheckpoint = (path: string, c: Checkpoint): void => {
  const tensors = [
    ...[...c.adapter].map(([k, data]) => ({ name: `adapter:${k}`, shape: shapeOf(data), data })),
    ...[...c.optimizer].map(([k, data]) => ({ name: `optimizer:${k}`, shape: shapeOf(data), data })),
  ];
  const meta = { fingerprint: c.fingerprint, epochs: String(c.epochs), steps: String(c.steps), history: JSON.stringify(c.history), preludes: JSON.stringify(c.preludes), reconfigurations: JSON.stringify(c.reconfigurations) };
  writeFileAtomic(path, writeSafetensors(tensors, meta));
};

export const loadCheckpoint = (path: string): Checkpoint => {
  const file = readSafetensors(readFileSync(path), path);
  const adapter = new Map<string, AdapterValue>();
  const optimizer = new Map<string, Float32Array>();
  for (const [name, raw] of file.tensors) {
    const [kind, ...rest] = name.split(":");
    if (kind === "adapter") adapter.set(rest.join(":"), toTensorData(raw, name));
    else optimizer.set(rest.join(":"), toFloat32(raw, name));
  }
  const m = file.metadata;
  return {
    fingerprint: m.fingerprint ?? "",
    epochs: Number(m.epochs),
    steps: Number(m.steps),
    history: JSON.parse(m.history ?? "[]") as EpochRecord[],
    preludes: JSON.parse(m.preludes ?? "[]") as unknown[],
    reconfigurations: JSON.parse(m.reconfigurations ?? "[]") as unknown[],
    adapter,
    optimizer,
  };
};

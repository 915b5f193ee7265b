import { decodeWith } from "../util/codecKit.js";
import { readFileSync } from "node:fs";
import * as t from "io-ts";
import { isLeft } from "fp-ts/lib/Either.js";
import { numberIn } from "../util/codecKit.js";

import { readSafetensors, SafetensorsError, toFloat32, toTensorData, writeSafetensors } from "../models/safetensors.js";
import type { AdapterValue } from "../interpreters/adapterParams.js";
import { writeFileAtomic } from "../util/atomicWrite.js";

import type { EpochRecord } from "./runResult.js";

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
  const meta = {
    fingerprint: c.fingerprint,
    epochs: String(c.epochs),
    steps: String(c.steps),
    history: JSON.stringify(c.history),
    preludes: JSON.stringify(c.preludes),
    reconfigurations: JSON.stringify(c.reconfigurations),
  };
  writeFileAtomic(path, writeSafetensors(tensors, meta));
};

// NaN (no validation set) is stored as null by JSON.
const measured = t.union([t.number, t.null]);
const EpochRecordCodec = t.type({
  epoch: t.number,
  steps: t.number,
  trainLoss: measured,
  terms: t.record(t.string, measured),
  valAccuracy: measured,
  lr: t.number,
  seconds: t.number,
});
const count = numberIn("integer ≥ 0", (n) => Number.isInteger(n) && n >= 0);
const CheckpointMetadata = t.type({
  fingerprint: t.string,
  epochs: count,
  steps: count,
  history: t.array(EpochRecordCodec),
  preludes: t.array(t.unknown),
  reconfigurations: t.array(t.unknown),
});

/** The checkpoint's metadata decoded (a damaged field is an error naming it, never "after epoch NaN"). */
const checkpointMetadata = (m: Readonly<Record<string, string>>, path: string) => {
  const json = (key: string, fallback: string): unknown => {
    try {
      return JSON.parse(m[key] ?? fallback);
    } catch {
      throw new SafetensorsError(`${path}: metadata ${key} is not JSON`);
    }
  };
  const decoded = decodeWith(CheckpointMetadata, {
    fingerprint: m.fingerprint,
    epochs: json("epochs", "null"),
    steps: json("steps", "null"),
    history: json("history", "[]"),
    preludes: json("preludes", "[]"),
    reconfigurations: json("reconfigurations", "[]"),
  });
  if (isLeft(decoded)) throw new SafetensorsError(`${path}: metadata: ${decoded.left.slice(0, 3).join("; ")}`);
  const c = decoded.right;
  if (c.history.length !== c.epochs) throw new SafetensorsError(`${path}: metadata history holds ${c.history.length} epochs, epochs says ${c.epochs}`);
  return c;
};

export const loadCheckpoint = (path: string): Checkpoint => {
  const file = readSafetensors(readFileSync(path), path);
  const meta = checkpointMetadata(file.metadata, path);
  const adapter = new Map<string, AdapterValue>();
  const optimizer = new Map<string, Float32Array>();
  for (const [name, raw] of file.tensors) {
    const [kind, ...rest] = name.split(":");
    if (kind === "adapter") adapter.set(rest.join(":"), toTensorData(raw, name));
    else optimizer.set(rest.join(":"), toFloat32(raw, name));
  }
  return { ...meta, history: meta.history as unknown as EpochRecord[], adapter, optimizer };
};

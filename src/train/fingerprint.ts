import { createHash } from "node:crypto";
import { isLeft } from "fp-ts/lib/Either.js";
import { decodeExperiment, ExperimentCodec } from "../dsl/codecs.js";
import type { Experiment } from "../dsl/experiment.js";

/**
 * A short hash of the experiment's canonical JSON: a checkpoint resumes only the run that wrote
 * it. `schedule.evalBatch` is left out: it changes how evaluation is batched, never its result,
 * so a run whose evaluation did not fit resumes with a smaller one.
 */
export const fingerprint = (e: Experiment): string => {
  const { evalBatch: _, ...schedule } = e.schedule;
  return createHash("sha256")
    .update(
      JSON.stringify(ExperimentCodec.encode({ ...e, schedule }), (_, v: unknown) =>
        v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
      ),
    )
    .digest("hex")
    .slice(0, 16);
};

/** The fingerprint of an experiment recorded as JSON (a result's `experiment`, a job's file); null when it does not decode. */
export const recordedFingerprint = (json: unknown): string | null => {
  const decoded = decodeExperiment(json);
  return isLeft(decoded) ? null : fingerprint(decoded.right);
};

import { createHash } from "node:crypto";
import { ExperimentCodec } from "../dsl/codecs.js";
import type { Experiment } from "../dsl/experiment.js";

/** A short hash of the experiment's canonical JSON: a checkpoint resumes only the run that wrote it. */
export const fingerprint = (e: Experiment): string =>
  createHash("sha256")
    .update(JSON.stringify(ExperimentCodec.encode(e), (_, v: unknown) =>
      v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v))
    .digest("hex")
    .slice(0, 16);

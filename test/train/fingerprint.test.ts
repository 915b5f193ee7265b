import { describe, expect, it } from "vitest";
import { isLeft } from "fp-ts/lib/Either.js";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeExperiment } from "../../src/dsl/codecs.js";
import { fingerprint } from "../../src/train/fingerprint.js";
import { projectRoot } from "../support/peftCli.js";

const decoded = decodeExperiment(JSON.parse(readFileSync(join(projectRoot, "examples/experiments/lora.json"), "utf8")));
if (isLeft(decoded)) throw new Error(decoded.left.join("\n"));
const e = decoded.right;

describe("the experiment fingerprint a checkpoint resumes by", () => {
  it("changes with anything that changes training, not with the evaluation batch", () => {
    expect(fingerprint({ ...e, schedule: { ...e.schedule, evalBatch: 2 } })).toBe(fingerprint({ ...e, schedule: { ...e.schedule, evalBatch: 64 } }));
    expect(fingerprint({ ...e, schedule: { ...e.schedule, evalBatch: 2 } })).toBe(fingerprint(e));
    expect(fingerprint({ ...e, optimizer: { ...e.optimizer, lr: 0.5 } })).not.toBe(fingerprint(e));
    expect(fingerprint({ ...e, schedule: { ...e.schedule, microBatch: 4 } })).not.toBe(fingerprint(e));
    expect(fingerprint({ ...e, dropPath: 0.1 })).not.toBe(fingerprint(e));
  });
});

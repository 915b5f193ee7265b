import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { peftBin, projectRoot } from "../support/peftCli.js";

/*
 * A run's numbers are a function of the experiment, not of the machine: on the wasm backend with
 * the native kernels and OpenBLAS, the thread count does not change a bit of them (the addon cuts
 * products into tiles by shape, OpenBLAS runs on one thread), and on every x86-64 CPU with AVX2
 * the kernels are the same (x86-64-v3 and OpenBLAS's Haswell kernels), so the numbers measured
 * where this test was written (an AMD EPYC with AVX-512) must come out on any other such CPU.
 */
const work = mkdtempSync(join(tmpdir(), "peft-same-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Full fine-tuning of the demo backbone (every product in the step runs), one epoch, 300 test images.
const experiment = JSON.parse(readFileSync(join(projectRoot, "examples/experiments/full.json"), "utf8")) as Record<string, Record<string, unknown>>;
writeFileSync(
  join(work, "full.json"),
  JSON.stringify({ ...experiment, data: { ...experiment.data, testLimit: 300 }, schedule: { ...experiment.schedule, epochs: 1 }, metrics: { examples: 0 } }),
);

interface Run {
  readonly backend: string;
  readonly metrics: { readonly trainLoss: number; readonly valAccuracy: number; readonly testAccuracy: number };
}
const train = (threads: number): Run => {
  const out = join(work, `t${threads}`);
  const r = spawnSync(process.execPath, [peftBin, "train", "full.json", "--out", out, "--backend", "wasm"], {
    cwd: work,
    encoding: "utf8",
    env: { ...process.env, PEFT_WASM_THREADS: String(threads) },
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(readFileSync(join(out, "result.json"), "utf8")) as Run;
};

// .ci/run installs OpenBLAS and builds the addon: there the fixed kernels must be what runs.
const required = process.env.PEFT_REQUIRE_BLAS === "1" && process.env.PEFT_REQUIRE_NATIVE === "1";
const fixedKernels = /OpenBLAS 0\.3\.21 .*Haswell.*native \(x86-64-v3\)\)$/;
let first: Run;
beforeAll(() => {
  first = train(1);
});

describe("the same numbers on any thread count and any x86-64-v3 CPU", () => {
  it("1, 2 and 3 threads train to the same loss and accuracies, bit for bit", () => {
    for (const threads of [2, 3]) {
      const run = train(threads);
      expect(run.backend).toBe(first.backend.replace("1 thread;", `${threads} threads;`));
      expect(run.metrics).toEqual(first.metrics);
    }
  });

  it("the numbers measured on another CPU (an AMD EPYC with AVX-512) with OpenBLAS 0.3.21's Haswell kernels and x86-64-v3", (test) => {
    if (!required && !fixedKernels.test(first.backend)) test.skip(`other kernels run here: ${first.backend}`);
    expect(first.backend).toMatch(fixedKernels);
    expect(first.metrics).toEqual({ trainLoss: 1.5366460132598876, valAccuracy: 0.555, testAccuracy: 179 / 300 });
  });
});

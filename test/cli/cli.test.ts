import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftBin, peftIn, projectRoot } from "../support/peftCli.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../../src/models/safetensors.js";
import { readBackbone } from "../../src/models/backbone.js";
import { mnist } from "../../src/data/mnist.js";
import { loadCheckpoint } from "../../src/train/checkpoint.js";
import { expectClose } from "../support/close.js";
import { killWhen, linesWith } from "../support/killWhen.js";

/*
 * The CLI as a user runs it: the built `peft` binary (npm test builds first), real files,
 * exit codes, and a real SIGKILL in the middle of training.
 */
const root = projectRoot;
const bin = peftBin;
const work = mkdtempSync(join(tmpdir(), "peft-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

/** A small LoRA experiment on the embedded backbone: 3 epochs of 7 steps. */
const smallLora = {
  name: "cli test: LoRA r4 on q,v + head",
  data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 200, val: 60 }, seed: 0, testLimit: 300 },
  method: {
    targets: [
      { select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 4, alpha: 8 } },
      { select: { _tag: "Role", role: "v" }, transform: { _tag: "LowRank", rank: 4, alpha: 8 } },
      { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
    ],
  },
  optimizer: { _tag: "AdamW", lr: 0.005 },
  schedule: { epochs: 3, batchSize: 32, warmupEpochs: 1 },
  seed: 4,
};
const experimentFile = (name: string, content: unknown): string => {
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
};
const tensors = (path: string) => readSafetensors(readFileSync(path));

/** Start a training run and SIGKILL it as soon as its first epoch is logged. */
const killAfterFirstEpoch = (experiment: string, out: string): Promise<void> =>
  killWhen([bin, "train", experiment, "--out", out, "--backend", "wasm"], work, () => linesWith(join(out, "log.jsonl"), '"type":"epoch"') >= 1);

describe("peft CLI", () => {
  const lora = experimentFile("lora.json", smallLora);

  it("rejects a malformed experiment with exit 2, names the field, and writes nothing", () => {
    const bad = experimentFile("bad.json", { ...smallLora, schedule: { epochs: 0, batchSize: 32 } });
    const out = join(work, "bad-run");
    const r = peft("train", bad, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("expected integer in [1, 1,000,000] at schedule.epochs, got 0");
    expect(existsSync(out)).toBe(false);
    const typo = peft("train", experimentFile("typo.json", { ...smallLora, optimiser: {} }), "--out", out);
    expect([typo.code, typo.stderr.includes('unknown field "optimiser"')]).toEqual([2, true]);
    expect(peft("train", lora, "--out", out, "--epochs", "two").code).toBe(2);
    expect(peft("train", lora, "--out", out, "--backend", "tpu").stderr).toContain(
      'Invalid value for flag --backend: "tpu". Expected: "auto" | "gpu" | "node" | "webgpu" | "wasm" | "cpu"',
    );
    const gpuLaws = peft("laws", lora, "--backend", "webgpu");
    expect([gpuLaws.code, gpuLaws.stderr.includes("the laws read tensors synchronously")]).toEqual([2, true]);
    expect(peft("train", join(work, "missing.json"), "--out", out).stderr).toContain("no such file");
    expect(existsSync(out)).toBe(false);
    // --out naming a file, or a path through one, is bad input (exit 2), refused before anything is read.
    const file = experimentFile("a-file", "");
    for (const [at, message] of [
      [file, `peft: --out ${file} is a file; name a directory for the run\n`],
      [join(file, "run"), `peft: --out ${join(file, "run")}: ${file} is a file, not a folder\n`],
    ]) {
      const r = peft("train", lora, "--out", at!);
      expect([r.code, r.stderr]).toEqual([2, message]);
    }
  });

  it("counts and describes an experiment's method without training", () => {
    const r = peft("count", lora);
    expect(r.code).toBe(0);
    // q and v of 4 blocks: 4·2·r(64+64) with r = 4, plus the reset head 64·5 + 5.
    expect(r.stdout).toContain(`trainable params: ${(4 * 2 * 4 * 128 + 64 * 5 + 5).toLocaleString("en-US")}`);
    const b16 = peft("count", join(root, "examples/experiments/lora.json"), "--backbone", "vit-b16");
    expect(b16.stdout).toContain(`trainable params: ${(294_912 + 768 * 5 + 5).toLocaleString("en-US")}`);
    expect(peft("describe", lora).stdout).toContain("blocks.3.attn.qkv.weight[v]");
  });

  it("checks the laws on an experiment file's method", () => {
    const r = peft("laws", lora, "--runs", "2");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("✓ merge equivalence (2 runs)");
    expect(r.stdout).toContain("all 10 laws hold");
  });

  const run = join(work, "run");
  it("trains: writes result.json, adapter and merged checkpoints and the log, and no checkpoint is left", () => {
    const r = peft("train", lora, "--out", run, "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(run).sort()).toEqual(["adapter.safetensors", "config.json", "log.jsonl", "merged.safetensors", "result.json"]);
    const result = JSON.parse(readFileSync(join(run, "result.json"), "utf8"));
    expect(result.trainable).toBe(4 * 2 * 4 * 128 + 64 * 5 + 5);
    expect(result.history).toHaveLength(3);
    expect(result.metrics.testAccuracy).toBeGreaterThan(0.5);
    const adapter = tensors(join(run, "adapter.safetensors"));
    expect(adapter.tensors.size).toBe(4 * 2 * 2 + 2);
    expect(JSON.parse(adapter.metadata.method!).targets).toHaveLength(3);
    const log = readFileSync(join(run, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(log.filter((l) => l.type === "step")).toHaveLength(3 * 7);
    expect(log.filter((l) => l.type === "epoch")).toHaveLength(3);
  });

  /** `peft forward` logits of 64 MNIST test images, merged checkpoint vs backbone + adapter. */
  const n = 64;
  const mergedAndAdapted = (dir: string) => {
    const input = join(work, "images.safetensors");
    if (!existsSync(input)) {
      const test = mnist("test");
      const images = Float32Array.from({ length: n * 784 }, (_, i) => (test.images[i]! / 255 - 0.1307) / 0.3081);
      writeFileSync(input, writeSafetensors([{ name: "images", shape: [n, 28, 28, 1], data: images }]));
    }
    const logits = (out: string, ...args: string[]) => {
      const r = peft("forward", ...args, "--input", input, "--out", out, "--backend", "wasm");
      expect(r.code, r.stderr).toBe(0);
      return toFloat32(tensors(out).tensors.get("logits")!);
    };
    return {
      merged: logits(join(dir, "y-merged.safetensors"), "--weights", join(dir, "merged.safetensors")),
      adapted: logits(
        join(dir, "y-adapter.safetensors"),
        "--weights",
        join(root, "assets/vit-mnist04.safetensors"),
        "--adapter",
        join(dir, "adapter.safetensors"),
      ),
    };
  };

  it("forward on merged.safetensors matches the unmerged adapted model to 1e-4, and differs from the backbone", () => {
    const { merged, adapted } = mergedAndAdapted(run);
    expect(merged).toHaveLength(n * 5);
    expectClose(merged, adapted, { atol: 1e-4, rtol: 1e-4 }, "merged vs adapter logits");
    const base = readBackbone(readFileSync(join(root, "assets/vit-mnist04.safetensors")), "base").weights.get("blocks.0.attn.qkv.weight")!;
    const tuned = readBackbone(readFileSync(join(run, "merged.safetensors")), "merged").weights.get("blocks.0.attn.qkv.weight")!;
    const diff = (from: number, to: number) => Math.max(...Array.from({ length: to - from }, (_, i) => Math.abs(base.data[from + i]! - tuned.data[from + i]!)));
    expect(diff(0, 64 * 64)).toBeGreaterThan(1e-4); // q rows moved
    expect(diff(64 * 64, 128 * 64)).toBe(0); // k rows are not adapted
    expect(diff(128 * 64, 192 * 64)).toBeGreaterThan(1e-4); // v rows moved
  });

  it("merges AdaptFormer by keeping its modules: the merged backbone declares them and reproduces the logits", () => {
    const adaptformer = experimentFile("adaptformer.json", {
      ...smallLora,
      name: "cli test: AdaptFormer",
      schedule: { epochs: 1, batchSize: 32 },
      method: {
        targets: [
          { select: { _tag: "Role", role: "mlp" }, transform: { _tag: "ParallelAdapter", bottleneck: 4, scale: 1 } },
          { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
        ],
      },
    });
    const dir = join(work, "adaptformer");
    const r = peft("train", adaptformer, "--out", dir, "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    const merged = readBackbone(readFileSync(join(dir, "merged.safetensors")), "merged");
    expect(merged.config.mlpAdapters).toEqual([4, 4, 4, 4]);
    expect(merged.weights.get("blocks.0.adaptmlp.up_proj.weight")!.shape).toEqual([64, 4]);
    const logits = mergedAndAdapted(dir);
    expectClose(logits.merged, logits.adapted, { atol: 1e-4, rtol: 1e-4 }, "merged vs adapter logits");
    // The documented layout rebuilds both trained runs (reset head included) without this library.
    for (const d of [dir, run]) {
      const rebuilt = spawnSync(
        process.execPath,
        [
          join(root, "examples/rebuild-from-adapter.mjs"),
          join(root, "assets/vit-mnist04.safetensors"),
          join(d, "adapter.safetensors"),
          join(d, "merged.safetensors"),
        ],
        { encoding: "utf8" },
      );
      expect(rebuilt.status, rebuilt.stdout + rebuilt.stderr).toBe(0);
    }
  });

  it("trains with loss terms: result.json holds every term and the representation metrics, log.jsonl every step's terms", () => {
    const withTerms = {
      ...smallLora,
      name: "cli test: LoRA + BAFT + RIFT*",
      schedule: { epochs: 2, batchSize: 32 },
      metrics: { examples: 150, everyEpoch: true },
      method: {
        ...smallLora.method,
        losses: [
          { _tag: "Baft", weight: 0.01, pool: "mean", layers: "late" },
          { _tag: "Rift", mean: true },
        ],
        rules: [{ when: { _tag: "Once" }, action: { _tag: "FeatureStatistics" } }],
      },
    };
    const bad = (losses: unknown[], rules: unknown[] = []) =>
      peft("train", experimentFile("bad-loss.json", { ...withTerms, method: { ...withTerms.method, losses, rules } }), "--out", join(work, "bad-loss"));
    const outOfRange = bad([{ _tag: "Baft", layers: [9] }]);
    expect([outOfRange.code, outOfRange.stderr]).toEqual([2, expect.stringContaining("method.losses[0].layers: block 9 does not exist")]);
    expect(bad([{ _tag: "Rift" }]).stderr).toContain("add the rule once(featureStatistics())");
    expect(bad([{ _tag: "Baft", weight: -1 }]).stderr).toContain("expected number ≥ 0 at method.losses[0].weight, got -1");
    expect(existsSync(join(work, "bad-loss"))).toBe(false);
    const dir = join(work, "terms");
    const r = peft("train", experimentFile("terms.json", withTerms), "--out", dir, "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
    expect(result.losses.map((l: { name: string }) => l.name)).toEqual(["ce", "baft", "rift"]);
    for (const l of result.losses) expect(Number.isFinite(l.lastEpochMean) && l.lastEpochMean >= 0, l.name).toBe(true);
    expect([result.preludes[0].rule, result.preludes[0].examples]).toEqual(["once: featureStatistics", 200]);
    expect(result.representation.examples).toBe(150);
    expect(result.representation.sim).toBeGreaterThan(0);
    expect(result.representation.sim).toBeLessThan(1);
    expect(result.representation.tuned.attentionEntropy).toHaveLength(4);
    expect(result.history.map((h: { representation?: unknown }) => h.representation !== undefined)).toEqual([true, true]);
    const steps = readFileSync(join(dir, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
      .filter((l) => l.type === "step");
    expect(steps.every((s: { terms: Record<string, number> }) => Object.keys(s.terms).join() === "ce,baft,rift")).toBe(true);
    // RIFT's Q and statistics train with the run but are not part of the adapter.
    expect([...tensors(join(dir, "adapter.safetensors")).tensors.keys()].some((k) => k.startsWith("losses"))).toBe(false);
  });

  it("stops with exit 3 and a diagnostic when the loss stops being finite, keeping the last good checkpoint", () => {
    const exploding = experimentFile("nan.json", {
      ...smallLora,
      data: { ...smallLora.data, split: { _tag: "Vtab1k", train: 64, val: 10 }, testLimit: 10 },
      optimizer: { _tag: "AdamW", lr: 1e9 },
      schedule: { epochs: 3, batchSize: 32, warmupEpochs: 0 },
    });
    const out = join(work, "nan");
    const r = peft("train", exploding, "--out", out, "--backend", "wasm");
    expect(r.code, r.stderr).toBe(3);
    // At lr 1e9 the weights grow ~1e9 a step: the first epoch stays finite, and the second or the
    // third overflows (where exactly depends on how the kernels round near the float32 limit).
    const stop = /(loss|a gradient) is not finite .*at epoch (\d), step \d+ .*no update was applied; the checkpoint after epoch (\d) is kept/.exec(r.stderr);
    expect(stop, r.stderr).not.toBeNull();
    const [failed, keptAfter] = [Number(stop![2]), Number(stop![3])];
    expect([failed >= 2, keptAfter]).toEqual([true, failed - 1]);
    expect(existsSync(join(out, "result.json"))).toBe(false);
    const kept = loadCheckpoint(join(out, "checkpoint.safetensors"));
    expect([kept.epochs, kept.history.every((h) => Number.isFinite(h.trainLoss))]).toEqual([keptAfter, true]);
    expect([...kept.adapter.values()].every((v) => v.every(Number.isFinite))).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readFileSync(join(out, "log.jsonl"), "utf8")).toContain('"type":"error"');
  });

  it("rejects forward inputs of the wrong shape with exit 2", () => {
    const input = join(work, "wrong.safetensors");
    writeFileSync(input, writeSafetensors([{ name: "images", shape: [1, 32, 32, 1], data: new Float32Array(1024) }]));
    const out = join(work, "never.safetensors");
    const r = peft("forward", "--weights", join(root, "assets/vit-mnist04.safetensors"), "--input", input, "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--input: images must be [N, 28, 28, 1]");
    expect(existsSync(out)).toBe(false);
  });

  it("refuses to overwrite a finished run without --resume", () => {
    const r = peft("train", lora, "--out", run);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("already holds a run");
  });

  it("resumes after SIGKILL and ends with exactly the metrics and weights of an uninterrupted run", async () => {
    const killed = join(work, "killed");
    await killAfterFirstEpoch(lora, killed);
    expect(existsSync(join(killed, "checkpoint.safetensors"))).toBe(true);
    expect(existsSync(join(killed, "result.json"))).toBe(false);
    const changed = experimentFile("other.json", { ...smallLora, seed: 5 });
    expect(peft("train", changed, "--out", killed, "--resume").stderr).toContain("different experiment");
    const r = peft("train", lora, "--out", killed, "--resume", "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resuming after epoch [12]/);
    const a = JSON.parse(readFileSync(join(run, "result.json"), "utf8"));
    const b = JSON.parse(readFileSync(join(killed, "result.json"), "utf8"));
    expect(b.metrics).toEqual(a.metrics);
    expect(b.representation).toEqual(a.representation);
    expect(b.history.map((h: { trainLoss: number }) => h.trainLoss)).toEqual(a.history.map((h: { trainLoss: number }) => h.trainLoss));
    const wa = tensors(join(run, "adapter.safetensors"));
    const wb = tensors(join(killed, "adapter.safetensors"));
    for (const [name, t] of wa.tensors) expect(toFloat32(wb.tensors.get(name)!), name).toEqual(toFloat32(t));
    const steps = readFileSync(join(killed, "log.jsonl"), "utf8")
      .trim()
      .split("\n")
      .filter((l) => l.includes('"type":"step"'));
    expect(steps).toHaveLength(3 * 7);
  });

  it("trains DAF (a reconfigure rule): records every cycle within budget, draws the heatmap, and resumes a killed run exactly", async () => {
    const dafRun = experimentFile("daf.json", {
      ...smallLora,
      name: "cli test: DAF every epoch",
      data: { ...smallLora.data, split: { _tag: "Vtab1k", train: 96, val: 30 }, testLimit: 60 },
      method: {
        targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }],
        rules: [{ when: { _tag: "Every", n: 1, unit: "epochs" }, action: { _tag: "Reconfigure", batches: 2, budget: 0.3, ema: 0.7 } }],
      },
      metrics: { examples: 0 },
    });
    const dir = join(work, "daf");
    const r = peft("train", dafRun, "--out", dir, "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/s reconfiguring \(\d+\.\d+% of training\)/);
    const result = JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));
    expect(result.reconfigurations.map((c: { epoch: number }) => c.epoch)).toEqual([0, 1, 2]);
    for (const c of result.reconfigurations) {
      for (const k of ["matrices", "vectors", "special"]) expect(c.selected[k]).toBeLessThanOrEqual(c.budget[k]);
      expect(c.active.length).toBeGreaterThan(0);
      expect(c.seconds.perceive).toBeGreaterThan(0);
    }
    expect(result.trainable).toBe(Math.max(...result.reconfigurations.map((c: { trainable: number }) => c.trainable)));
    const svg = readFileSync(join(dir, "configurations.svg"), "utf8");
    const rows = new Set(result.reconfigurations.flatMap((c: { present: string[] }) => c.present)).size;
    expect(svg.startsWith("<svg")).toBe(true);
    // Five block rows (embeddings and final norm, blocks 0–3) over the unit rows, three epochs each.
    expect(svg.match(/<rect x="\d+" y="\d+" width="17"/g)).toHaveLength((5 + rows) * 3);
    // The adapter is a plain method: every module ever selected, no rule left to run.
    const adapter = tensors(join(dir, "adapter.safetensors"));
    expect(JSON.parse(adapter.metadata.method!).rules).toEqual([]);
    const killed = join(work, "daf-killed");
    await killAfterFirstEpoch(dafRun, killed);
    const resumed = peft("train", dafRun, "--out", killed, "--resume", "--backend", "wasm");
    expect(resumed.code, resumed.stderr).toBe(0);
    const again = JSON.parse(readFileSync(join(killed, "result.json"), "utf8"));
    expect(again.metrics).toEqual(result.metrics);
    expect(again.reconfigurations.map((c: { active: string[] }) => c.active)).toEqual(result.reconfigurations.map((c: { active: string[] }) => c.active));
    for (const [name, t] of adapter.tensors) expect(toFloat32(tensors(join(killed, "adapter.safetensors")).tensors.get(name)!), name).toEqual(toFloat32(t));
  });
});

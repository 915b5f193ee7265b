import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFolderTask } from "../support/imageTasks.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { loadImageFolder } from "../../src/data/imageFolder.js";
import type { ImageFolder } from "../../src/dsl/experiment.js";
import { readSafetensors } from "../../src/models/safetensors.js";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { defaultBackbonePath } from "../../src/util/packageRoot.js";
import { peftIn } from "../support/peftCli.js";

/*
 * The demo backbone was pretrained on MNIST normalised with 0.1307 / 0.3081: it carries that, an
 * image folder on it is normalised so, and what a run writes (config.json, merged.safetensors, the
 * HF PEFT export) says what the run used and names the demo backbone for what it is.
 */
const work = mkdtempSync(join(tmpdir(), "peft-pretrained-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(work, "digits");
const demoName = "peft-dsl demo ViT (MNIST digits 0,1,2,3,4)";

/** A 28×28 grey image: a stroke whose place depends on the class, over a faint texture. */
const pixels = (k: number, i: number): Buffer => {
  const px = Buffer.alloc(28 * 28);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) px[y * 28 + x] = (x * 7 + y * 3 + i * 11) % 23;
  for (let y = 6; y < 22; y++) for (let x = 0; x < 3; x++) px[y * 28 + 8 + 10 * k + x] = 230 + i;
  return px;
};

beforeAll(async () => {
  for (const k of [0, 1]) {
    mkdirSync(join(root, `c${k}`), { recursive: true });
    for (let i = 0; i < 12; i++)
      await sharp(pixels(k, i), { raw: { width: 28, height: 28, channels: 1 } })
        .png()
        .toFile(join(root, `c${k}`, `${i}.png`));
  }
});

const folderTask = (over: Parameters<typeof imageFolderTask>[1] = {}): ImageFolder =>
  imageFolderTask(root, { split: { _tag: "Vtab1k", train: 16, val: 4 }, ...over });

describe("the demo backbone's pretrained preprocessing", () => {
  it("the demo backbone carries MNIST's mean and std, and an image folder on it is normalised with them", async () => {
    const demo = readBackboneFile(defaultBackbonePath());
    expect(demo.timm).toMatchObject({ name: demoName, pretrainedCfg: { mean: [0.1307], std: [0.3081], inputSize: [1, 28, 28] } });
    const t = await loadImageFolder(folderTask(), "/", demo.config, demo.timm?.pretrainedCfg);
    // Every image is one of the files, normalised in float64 from its pixels with MNIST's statistics.
    const expected = [0, 1].flatMap((k) => Array.from({ length: 12 }, (_, i) => Array.from(pixels(k, i), (v) => (v / 255 - 0.1307) / 0.3081)));
    for (const ds of [t.train, t.val, t.test])
      for (let j = 0; j < ds.count; j++) {
        const image = ds.read([j]);
        expect(expected.some((e) => e.every((v, p) => Math.abs(v - image[p]!) < 1e-5))).toBe(true);
      }
  });

  it("peft train: config.json and merged.safetensors record the values the run used; the HF PEFT export names the demo backbone", () => {
    const peft = peftIn(work);
    const experiment = (name: string, data: Record<string, unknown>) => {
      const path = join(work, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          name,
          data: { _tag: "ImageFolder", root: "digits", split: { _tag: "Vtab1k", train: 16, val: 4 }, ...data },
          method: {
            targets: [
              { select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 2, alpha: 4 } },
              { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
            ],
          },
          optimizer: { _tag: "AdamW", lr: 0.01 },
          schedule: { epochs: 1, batchSize: 8, warmupEpochs: 0 },
          metrics: { examples: 0 },
        }),
      );
      return path;
    };
    const run = (name: string, data: Record<string, unknown>) => {
      const r = peft("train", experiment(name, data), "--out", join(work, name), "--backend", "wasm");
      expect(r.code, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(join(work, name, "result.json"), "utf8"));
      const config = JSON.parse(readFileSync(join(work, name, "config.json"), "utf8"));
      const merged = readSafetensors(readFileSync(join(work, name, "merged.safetensors")), name).metadata;
      return { result, config, merged };
    };
    const implicit = run("implicit", {});
    expect(implicit.config.pretrained_cfg).toEqual({
      description: demoName,
      input_size: [1, 28, 28],
      interpolation: "bicubic",
      crop_pct: 1,
      crop_mode: "squash",
      mean: [0.1307],
      std: [0.3081],
      num_classes: 2,
    });
    expect(implicit.merged.name).toBe(demoName);
    expect(JSON.parse(implicit.merged.pretrained_cfg!)).toMatchObject({ mean: [0.1307], std: [0.3081], crop_mode: "squash" });
    // The same run with MNIST's statistics spelled out trains identically: they are what it used.
    const explicit = run("explicit", { mean: [0.1307], std: [0.3081] });
    expect(explicit.result.history).toEqual(
      implicit.result.history.map((h: { seconds: number }, e: number) => ({ ...h, seconds: explicit.result.history[e].seconds })),
    );
    expect(explicit.result.metrics).toEqual(implicit.result.metrics);
    // Other values and a crop: recorded as used.
    const other = run("other", { mean: [0.25], std: [0.5], resize: "crop", cropPct: 0.75 });
    expect(other.config.pretrained_cfg).toMatchObject({ crop_pct: 0.75, crop_mode: "center", mean: [0.25], std: [0.5] });
    const exported = peft("export", join(work, "implicit"), "--format", "hf-peft", "--out", join(work, "implicit-hf"));
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, "implicit-hf", "adapter_config.json"), "utf8")).base_model_name_or_path).toBe(demoName);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn, projectRoot } from "../support/peftCli.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../../src/models/safetensors.js";
import { hubConfig, timmHubConfig } from "../../src/models/timmConfig.js";
import { vitParams } from "../../src/models/vitParams.js";
import { readBackbone } from "../../src/models/backbone.js";

/* `peft export --format hf-peft` and `peft import` as a user runs them, on trained runs of the embedded backbone. */
const base = join(projectRoot, "assets/vit-mnist04.safetensors");
const work = mkdtempSync(join(tmpdir(), "peft-hf-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

const experiment = (name: string, targets: unknown[]) => {
  const path = join(work, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      name,
      data: { _tag: "Mnist", digits: [5, 6, 7, 8, 9], split: { _tag: "Vtab1k", train: 96, val: 32 }, seed: 0, testLimit: 64 },
      method: { targets: [...targets, { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] },
      optimizer: { _tag: "AdamW", lr: 0.005 },
      schedule: { epochs: 1, batchSize: 32, warmupEpochs: 0 },
      metrics: { examples: 0 },
      seed: 1,
    }),
  );
  return path;
};

const logits = (path: string) => toFloat32(readSafetensors(readFileSync(path)).tensors.get("logits")!);

describe("peft export / import --format hf-peft", () => {
  const images = join(work, "x.safetensors");
  writeFileSync(
    images,
    writeSafetensors([{ name: "images", shape: [6, 28, 28, 1], data: Float32Array.from({ length: 6 * 28 * 28 }, (_, i) => Math.sin(i * 0.37)) }]),
  );

  it("a trained LoRA (q, v) + head run exports, imports back and computes the same logits; merged.safetensors has timm's config.json beside it", () => {
    const run = join(work, "lora");
    expect(
      peft(
        "train",
        experiment("lora", [
          {
            select: {
              _tag: "Or",
              of: [
                { _tag: "Role", role: "q" },
                { _tag: "Role", role: "v" },
              ],
            },
            transform: { _tag: "LowRank", rank: 4, alpha: 8 },
          },
        ]),
        "--out",
        run,
        "--backend",
        "wasm",
      ).code,
    ).toBe(0);
    const timm = JSON.parse(readFileSync(join(run, "config.json"), "utf8"));
    const hub = hubConfig(timm, "config.json");
    const decoded = hub.config;
    expect(vitParams(decoded)).toEqual(vitParams(readBackbone(readFileSync(join(run, "merged.safetensors")), "merged").config));
    expect(timmHubConfig(decoded, hub.architecture, hub.pretrainedCfg, timm.pretrained_cfg.description)).toEqual(timm);
    const out = join(work, "hf-lora");
    const exported = peft("export", run, "--format", "hf-peft", "--out", out);
    expect(exported.code, exported.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    const config = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8"));
    expect(config).toMatchObject({ peft_type: "LORA", r: 8, lora_alpha: 16, modules_to_save: ["head"] });
    expect([...readSafetensors(readFileSync(join(out, "adapter_model.safetensors"))).tensors.keys()]).toContain(
      "base_model.model.blocks.0.attn.qkv.lora_A.weight",
    );
    const imported = join(work, "imported.safetensors");
    expect(peft("import", "--format", "hf-peft", out, "--weights", base, "--out", imported, "--backend", "wasm").code).toBe(0);
    expect(
      peft(
        "forward",
        "--weights",
        base,
        "--adapter",
        join(run, "adapter.safetensors"),
        "--input",
        images,
        "--out",
        join(work, "y.safetensors"),
        "--backend",
        "wasm",
      ).code,
    ).toBe(0);
    expect(peft("forward", "--weights", base, "--adapter", imported, "--input", images, "--out", join(work, "z.safetensors"), "--backend", "wasm").code).toBe(
      0,
    );
    const [y, z] = [logits(join(work, "y.safetensors")), logits(join(work, "z.safetensors"))];
    expect(Math.max(...y.map((v, i) => Math.abs(v - z[i]!)))).toBeLessThan(1e-5);
    // The same directory again is refused: nothing is overwritten.
    expect(peft("export", run, "--format", "hf-peft", "--out", out).code).toBe(2);
    // Missing parent folders are created; a file in the way is refused before anything is made.
    const nested = join(work, "new", "deeper", "hf");
    expect(peft("export", run, "--format", "hf-peft", "--out", nested).code).toBe(0);
    expect(readdirSync(nested).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors"]);
    writeFileSync(join(work, "a-file"), "");
    const blocked = peft("export", run, "--format", "hf-peft", "--out", join(work, "a-file", "sub", "hf"));
    expect([blocked.code, blocked.stderr]).toEqual([2, `peft: --out: ${join(work, "a-file")} is a file, not a folder\n`]);
    // "default" is the embedded backbone, as in an experiment's backbone.weights.
    const viaDefault = join(work, "imported-default.safetensors");
    const fromDefault = peft("import", "--format", "hf-peft", out, "--weights", "default", "--out", viaDefault, "--backend", "wasm");
    expect(fromDefault.code, fromDefault.stderr).toBe(0);
    expect(readFileSync(viaDefault)).toEqual(readFileSync(imported));
  });

  it("an adapter_config.json with lora_alpha as a string, or a tensor holding NaN, exits 2 naming it and writes nothing", () => {
    const run = join(work, "lora-strict");
    expect(
      peft(
        "train",
        experiment("lora-strict", [{ select: { _tag: "Role", role: "fc1" }, transform: { _tag: "LowRank", rank: 2, alpha: 2 } }]),
        "--out",
        run,
        "--backend",
        "wasm",
      ).code,
    ).toBe(0);
    const hf = join(work, "hf-strict");
    expect(peft("export", run, "--format", "hf-peft", "--out", hf).code).toBe(0);
    const config = JSON.parse(readFileSync(join(hf, "adapter_config.json"), "utf8"));
    writeFileSync(join(hf, "adapter_config.json"), JSON.stringify({ ...config, lora_alpha: "four" }));
    const never = join(work, "never-strict.safetensors");
    const r = peft("import", "--format", "hf-peft", hf, "--weights", base, "--out", never);
    expect([r.code, r.stderr]).toEqual([2, 'peft: adapter_config.json: expected number > 0 at lora_alpha, got "four"\n']);
    writeFileSync(join(hf, "adapter_config.json"), JSON.stringify(config));
    const file = readSafetensors(readFileSync(join(hf, "adapter_model.safetensors")));
    const key = "base_model.model.blocks.0.mlp.fc1.lora_A.weight";
    const a = toFloat32(file.tensors.get(key)!);
    a[3] = NaN;
    writeFileSync(
      join(hf, "adapter_model.safetensors"),
      writeSafetensors([...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: name === key ? a : toFloat32(t) }))),
    );
    const nan = peft("import", "--format", "hf-peft", hf, "--weights", base, "--out", never);
    expect([nan.code, nan.stderr]).toEqual([2, `peft: ${key}: holds 1 non-finite value(s) (NaN or ±Inf)\n`]);
    expect(existsSync(never)).toBe(false);
  });

  it("a method HF PEFT cannot express exits 2 naming the target and pointing to merged.safetensors, and writes nothing", () => {
    const run = join(work, "rlrr");
    expect(
      peft("train", experiment("rlrr", [{ select: { _tag: "Role", role: "fc1" }, transform: { _tag: "Rescale" } }]), "--out", run, "--backend", "wasm").code,
    ).toBe(0);
    const out = join(work, "hf-rlrr");
    const r = peft("export", run, "--format", "hf-peft", "--out", out);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/targets\[0\].*RLRR.*merged\.safetensors/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(work).filter((f) => f.includes(".tmp"))).toEqual([]);
    expect(peft("export", run, "--format", "lora", "--out", out).stderr).toContain('--format: "lora". Expected: "hf-peft"');
    const bad = join(work, "bad-hf");
    mkdirSync(bad);
    writeFileSync(join(bad, "adapter_config.json"), JSON.stringify({ peft_type: "IA3" }));
    writeFileSync(join(bad, "adapter_model.safetensors"), writeSafetensors([]));
    const i = peft("import", "--format", "hf-peft", bad, "--weights", base, "--out", join(work, "never.safetensors"));
    expect([i.code, i.stderr.includes("peft_type")]).toEqual([2, true]);
    expect(existsSync(join(work, "never.safetensors"))).toBe(false);
  });
});

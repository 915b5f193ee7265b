import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../../src/train/backend.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { referenceForward } from "../../src/interpreters/reference/forward.js";
import { empty } from "../../src/dsl/method.js";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../../src/models/safetensors.js";
import { inferArchitecture } from "../../src/models/timmConfig.js";
import { timmArchitectures } from "../../src/models/timmArchitectures.js";
import { vitParams } from "../../src/models/vitParams.js";
import type { HostTensor } from "../../src/models/backbone.js";
import { readHost } from "../../src/util/hostRead.js";
import { checkLaws } from "../../laws/index.js";
import { combine, method, target } from "../../src/dsl/method.js";
import { role } from "../../src/dsl/selector.js";
import { scaleShift } from "../../src/dsl/transform.js";
import { linearProbe, lora } from "../../src/methods/index.js";
import { expectClose } from "../support/close.js";
import { fixturePath } from "../support/fixtures.js";

// Each model is a hub folder; files beside them (weight-decay.json) are other checks' fixtures.
const variants = readdirSync(fixturePath("timm"), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();
const folder = (v: string) => fixturePath(`timm/${v}`);

const io = (file: string) => new Map([...readSafetensors(readFileSync(file)).tensors].map(([k, v]) => [k, { shape: v.shape, data: toFloat32(v) }]));

/** Logits and pre-logits of a loaded backbone on the fixture's images, compiled (float32) and from the float64 reference. */
const outputs = (dir: string, ioFile: string, options = {}) => {
  const backbone = readBackboneFile(dir, "weights", "", options);
  const data = io(ioFile);
  const images = data.get("images")!;
  const n = images.shape[0]!;
  const program = compile(empty, backbone, { seed: 0 });
  const input = tf.tensor4d(images.data, images.shape as [number, number, number, number]);
  const logits = readHost(() => program.forward(input).logits);
  const preLogits = readHost(() => program.forward(input).preLogits);
  input.dispose();
  program.dispose();
  const ref = referenceForward(empty, backbone, new Map(), Float64Array.from(images.data), n);
  return { backbone, logits, preLogits, ref, expected: data };
};

const tol = { atol: 1e-4, rtol: 1e-4 };

describe.each(["wasm", "cpu"] as const)("timm checkpoints as published, on %s", (backend) => {
  beforeAll(() => loadBackend(backend));
  afterAll(() => tf.disposeVariables());

  it.each(variants)("%s: a hub folder loads and matches timm's logits (compiled and float64 reference)", (v) => {
    const o = outputs(folder(v), join(folder(v), "io.safetensors"));
    expectClose(o.logits, o.expected.get("logits")!.data, tol, `${v} logits`);
    expectClose(o.preLogits, o.expected.get("pre_logits")!.data, tol, `${v} pre-logits`);
    expectClose(o.ref.logits, o.expected.get("logits")!.data, tol, `${v} float64 logits`);
  });

  it.each([24, 12])("the position embedding resampled to %i² as timm's checkpoint filter does", (size) => {
    const o = outputs(folder("plain"), join(folder("plain"), `io-${size}.safetensors`), { image: size });
    expect(o.backbone.config.image).toBe(size);
    expectClose(o.logits, o.expected.get("logits")!.data, tol, `logits at ${size}²`);
  });
});

describe("the law suite on each variant's architecture (wasm)", () => {
  beforeAll(() => loadBackend("wasm"));
  afterAll(() => tf.disposeVariables());

  it.each(variants)("%s: every law holds for LoRA + head and for SSF on the norms, layer scales and fc1 + head", async (v) => {
    const config = readBackboneFile(folder(v)).config;
    for (const m of [
      combine(lora({ rank: 2 }), linearProbe()),
      combine(method({ targets: [target(role("norm", "scale", "fc1"), scaleShift({ init: "normal" }))] }), linearProbe()),
    ]) {
      const reports = await checkLaws(m, { config, runs: 3, seed: 5 });
      expect(
        reports.filter((r) => !r.ok),
        JSON.stringify(reports.filter((r) => !r.ok)),
      ).toEqual([]);
    }
  });
});

describe("checkpoint formats", () => {
  beforeAll(() => loadBackend("cpu"));

  it("Google's .npz loads (with the hub config.json beside it) to exactly the weights of timm's safetensors", () => {
    const dir = mkdtempSync(join(tmpdir(), "npz-"));
    copyFileSync(join(folder("plain"), "google.npz"), join(dir, "ViT.npz"));
    copyFileSync(join(folder("plain"), "config.json"), join(dir, "config.json"));
    const fromNpz = readBackboneFile(join(dir, "ViT.npz"));
    const fromSafetensors = readBackboneFile(folder("plain"));
    expect(fromNpz.config).toEqual(fromSafetensors.config);
    expect([...fromNpz.weights.keys()].sort()).toEqual([...fromSafetensors.weights.keys()].sort());
    for (const [name, t] of fromSafetensors.weights) {
      expect(fromNpz.weights.get(name)!.shape, name).toEqual(t.shape);
      expect(Buffer.from(fromNpz.weights.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true);
    }
  });

  it("a bare timm state dict (no metadata, no config.json) of a real architecture is inferred from its shapes", () => {
    const arch = { ...timmArchitectures["vit_tiny_patch16_224"]!, image: 32, classes: 7 };
    const weights = vitParams(arch).map((p, i) => ({
      name: p.name,
      shape: p.shape,
      data: Float32Array.from({ length: p.shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.sin(i + j)),
    }));
    const dir = mkdtempSync(join(tmpdir(), "bare-"));
    writeFileSync(join(dir, "tiny.safetensors"), writeSafetensors(weights, { format: "pt" }));
    const b = readBackboneFile(join(dir, "tiny.safetensors"));
    expect(b.config).toEqual(arch);
    expect(b.timm?.architecture).toMatch(/^vit_tiny_patch16_/);
    // The same file under an explicit architecture.
    expect(readBackboneFile(join(dir, "tiny.safetensors"), "w", "", { arch: "vit_tiny_patch16_224.augreg_in21k" }).timm?.pretrainedCfg?.mean).toEqual([
      0.5, 0.5, 0.5,
    ]);
  });

  const shapesOnly = (arch: string): Map<string, HostTensor> =>
    new Map(vitParams(timmArchitectures[arch]!).map((p) => [p.name, { shape: p.shape, data: new Float32Array(0) }]));

  it("shapes that fit architectures computing differently are an error listing them", () => {
    expect(() => inferArchitecture(shapesOnly("vit_base_patch16_clip_224"), "f")).toThrow(
      /vit_base_patch16_clip_224.*vit_base_patch16_clip_quickgelu_224|vit_base_patch16_clip_quickgelu_224.*vit_base_patch16_clip_224/,
    );
    expect(inferArchitecture(shapesOnly("deit3_base_patch16_224"), "f").architecture).toBe("deit3_base_patch16_224");
    expect(inferArchitecture(shapesOnly("vit_small_patch14_reg4_dinov2"), "f").config.regTokens).toBe(4);
  });

  it("a malformed or unsupported checkpoint names the tensor or field", () => {
    const dir = mkdtempSync(join(tmpdir(), "bad-"));
    const plain = readSafetensors(readFileSync(join(folder("plain"), "model.safetensors")));
    const tensors = [...plain.tensors].map(([name, t]) => ({ name, shape: t.shape, data: toFloat32(t) }));
    const config = JSON.parse(readFileSync(join(folder("plain"), "config.json"), "utf8"));
    const write = (name: string, ts: typeof tensors, cfg: unknown) => {
      const sub = mkdtempSync(join(dir, `${name}-`));
      writeFileSync(join(sub, "model.safetensors"), writeSafetensors(ts));
      writeFileSync(join(sub, "config.json"), JSON.stringify(cfg));
      return sub;
    };
    const lines = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as { lines?: string[] }).lines?.join("\n") ?? String(e);
      }
      return "no error";
    };
    const extra = write("extra", [...tensors, { name: "blocks.0.attn.q_norm.weight", shape: [16], data: new Float32Array(16) }], config);
    expect(lines(() => readBackboneFile(extra))).toMatch(/blocks\.0\.attn\.q_norm\.weight/);
    const missing = write(
      "missing",
      tensors.filter((t) => t.name !== "blocks.1.mlp.fc2.bias"),
      config,
    );
    expect(lines(() => readBackboneFile(missing))).toMatch(/missing tensor blocks\.1\.mlp\.fc2\.bias/);
    const qkNorm = write("qknorm", tensors, { ...config, model_args: { ...config.model_args, qk_norm: true } });
    expect(lines(() => readBackboneFile(qkNorm))).toMatch(/model_args\.qk_norm/);
    const unknownArg = write("unknown", tensors, { ...config, model_args: { ...config.model_args, rope: true } });
    expect(lines(() => readBackboneFile(unknownArg))).toMatch(/model_args\.rope is not understood/);
    const siglip = write("siglip", tensors, { ...config, architecture: "vit_base_patch16_siglip_224" });
    expect(lines(() => readBackboneFile(siglip))).toMatch(/vit_base_patch16_siglip_224 .*global_pool 'map'/);
    expect(lines(() => readBackboneFile(join(folder("plain"), "model.safetensors"), "w", "", { arch: "vit_base_patch16_224" }))).toMatch(
      /cls_token|pos_embed|patch_embed/,
    );
  });
});

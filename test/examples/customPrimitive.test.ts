import { beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkLaws } from "../../laws/index.js";
import {
  combine,
  countMethod,
  customPrimitive,
  decodeMethod,
  describeMethod,
  linearProbe,
  loadBackend,
  method,
  MethodCodec,
  readSafetensors,
  role,
  target,
} from "../../src/index.js";
import { demoConfig } from "../../src/cli/commands/pretrain.js";
import { lohaMethod, lohaSpec, type LohaFields } from "../../examples/custom-primitive.js";
import { peftIn, projectRoot } from "../support/peftCli.js";

const config = demoConfig(5);
beforeAll(() => loadBackend("wasm"));

describe("a user's own primitive (LoHa's core, examples/custom-primitive.ts)", () => {
  it("passes every law, is counted in closed form and described as materialised", async () => {
    const reports = await checkLaws(lohaMethod, { config, runs: 3 });
    expect(reports.filter((r) => !r.ok)).toEqual([]);
    expect(reports.map((r) => r.law)).toContain("compiled ≈ float64 reference");
    // 8 sites (q, v of 4 blocks) × 2·4·(64 + 64), and the head 5·64 + 5.
    expect(countMethod(lohaMethod, config).trainable).toBe(8 * 2 * 4 * 128 + 325);
    expect(describeMethod(lohaMethod, config)).toContain("hada_w2_b 64×4  (materialised)");
  }, 120_000);

  it("a wrong float64 ΔW (its scale α/r read as 1) makes the reference law fail", async () => {
    const wrong = customPrimitive<LohaFields>({
      ...lohaSpec,
      name: "loha-wrong-reference",
      delta64: (f, value, dout, din, pretrained) => lohaSpec.delta64({ ...f, alpha: f.rank }, value, dout, din, pretrained),
    });
    const m = combine(method({ targets: [target(role("q", "v"), wrong.transform({ rank: 2, alpha: 4 }))] }), linearProbe());
    const failed = (await checkLaws(m, { config, runs: 3 })).filter((r) => !r.ok).map((r) => r.law);
    expect(failed).toContain("compiled ≈ float64 reference");
  }, 120_000);

  it("round-trips through the method codec with its own field codec, and refuses bad fields naming them", () => {
    const json = JSON.parse(JSON.stringify(MethodCodec.encode(lohaMethod)));
    expect(json.targets[0].transform).toEqual({ _tag: "Custom", primitive: "loha", fields: { rank: 4, alpha: 4 } });
    const back = decodeMethod(json);
    expect(back._tag === "Right" && back.right).toEqual(lohaMethod);
    json.targets[0].transform.fields.rank = 0;
    const bad = decodeMethod(json);
    expect(bad._tag === "Left" && bad.left.join("\n")).toMatch(/targets\[0\]\.transform\.fields\.rank/);
  });

  it("trains with peft train as a JavaScript module (the compiled TypeScript experiment); a JSON file naming it without the module is exit 2", () => {
    const work = mkdtempSync(join(tmpdir(), "peft-loha-"));
    const peft = peftIn(work);
    const run = peft("train", join(projectRoot, "dist/examples/custom-primitive.js"), "--out", join(work, "loha"), "--epochs", "1", "--backend", "wasm");
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(work, "loha", "result.json"), "utf8"));
    expect(result.trainable).toBe(countMethod(lohaMethod, config).trainable);
    const adapter = readSafetensors(readFileSync(join(work, "loha", "adapter.safetensors")), "adapter");
    expect([...adapter.tensors.keys()]).toContain("blocks.0.attn.qkv.weight[q]/0/hada_w2_b");
    writeFileSync(join(work, "x.json"), JSON.stringify({ ...result.experiment, method: MethodCodec.encode(lohaMethod) }));
    const refused = peft("train", join(work, "x.json"), "--out", join(work, "x"));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('custom primitive "loha" is not registered in this process');
  }, 120_000);
});

import { beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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
  });

  it("a wrong float64 ΔW (its scale α/r read as 1) makes the reference law fail", async () => {
    const wrong = customPrimitive<LohaFields>({
      ...lohaSpec,
      name: "loha-wrong-reference",
      delta64: (f, value, dout, din, pretrained) => lohaSpec.delta64({ ...f, alpha: f.rank }, value, dout, din, pretrained),
    });
    const m = combine(method({ targets: [target(role("q", "v"), wrong.transform({ rank: 2, alpha: 4 }))] }), linearProbe());
    const failed = (await checkLaws(m, { config, runs: 3 })).filter((r) => !r.ok).map((r) => r.law);
    expect(failed).toContain("compiled ≈ float64 reference");
  });

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
  });

  describe("a user's module that fails is bad input: exit 2 naming the primitive and member, nothing written", () => {
    const work = mkdtempSync(join(tmpdir(), "peft-bad-module-"));
    const peft = peftIn(work);
    const url = (path: string) => JSON.stringify(pathToFileURL(join(projectRoot, path)).href);
    /** A module beside the example's: `body` defines the primitive `bad` from LoHa's spec, and the experiment trains it on q and v. */
    const moduleWith = (name: string, body: string, exported = "experiment") => {
      const path = join(work, `${name}.mjs`);
      writeFileSync(
        path,
        [
          `import * as peft from ${url("dist/src/index.js")};`,
          `import example, { lohaSpec } from ${url("dist/examples/custom-primitive.js")};`,
          body,
          "const method = peft.method({ targets: [peft.target(peft.role('q', 'v'), bad.transform({ rank: 2, alpha: 2 }))] });",
          "const experiment = { ...example, method };",
          `export default ${exported};`,
        ].join("\n"),
      );
      return path;
    };
    const refused = (r: { code: number | null; stdout: string; stderr: string }, out: string, message: string) => {
      expect([r.code, r.stderr]).toEqual([2, expect.stringContaining(message)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
    };

    it.each([
      [
        "a negative tensor shape",
        "tensors: (f, site) => lohaSpec.tensors(f, site).map((t) => ({ ...t, shape: [-f.rank, t.shape[1]] }))",
        "tensors on blocks.0.attn.qkv.weight[q] gave hada_w1_a the shape [-2,64]; expected whole numbers ≥ 1",
      ],
      [
        "a ΔW of the wrong shape",
        "delta: (f, tensor) => tensor('hada_w1_a')",
        "delta on blocks.0.attn.qkv.weight[q] returned a tensor of shape [2,64]; expected ΔW of shape [64,64]",
      ],
      ["a delta that throws", "delta: () => { throw new Error('boom'); }", "delta on blocks.0.attn.qkv.weight[q] threw: boom"],
      ["a count of NaN", "count: () => NaN", "count on blocks.0.attn.qkv.weight[q] returned NaN; expected a whole number ≥ 0"],
    ])("%s: peft train refuses before writing anything", (_, member, message) => {
      const module = moduleWith(member.slice(0, 5), `const bad = peft.customPrimitive({ ...lohaSpec, name: "bad", ${member} });`);
      const out = join(work, "run");
      refused(
        peft("train", module, "--out", out, "--epochs", "1", "--backend", "wasm"),
        out,
        `method.targets[0].transform: custom primitive "bad": ${message}`,
      );
    });

    it("a count of NaN is refused by peft count too, not printed as NaN trainable", () => {
      const module = moduleWith("nan-count", 'const bad = peft.customPrimitive({ ...lohaSpec, name: "bad", count: () => NaN });');
      refused(peft("count", module), join(work, "none"), 'custom primitive "bad": count on blocks.0.attn.qkv.weight[q] returned NaN');
    });

    it("a module whose default export rejects names the module and the reason", () => {
      const module = moduleWith("rejects", 'const bad = peft.customPrimitive({ ...lohaSpec, name: "bad" });', "Promise.reject(new Error('no data today'))");
      const out = join(work, "run");
      refused(peft("train", module, "--out", out), out, `${module}: its default export rejected: no data today`);
      // A promise of the experiment is awaited like the experiment itself.
      const resolves = moduleWith("resolves", 'const bad = peft.customPrimitive({ ...lohaSpec, name: "bad" });', "Promise.resolve(experiment)");
      expect(peft("count", resolves, "--json").code).toBe(0);
    });
  });

  it("peft count, describe and laws read the JavaScript module peft train reads", () => {
    const peft = peftIn(projectRoot);
    const module = join(projectRoot, "dist/examples/custom-primitive.js");
    const counted = peft("count", module, "--json");
    expect(counted.code, counted.stderr).toBe(0);
    expect(JSON.parse(counted.stdout).trainable).toBe(countMethod(lohaMethod, config).trainable);
    const described = peft("describe", module);
    expect([described.code, described.stdout]).toEqual([0, expect.stringContaining("loha(r=4, s=4/4)")]);
    const laws = peft("laws", module, "--runs", "1");
    expect([laws.code, laws.stdout]).toEqual([0, expect.stringContaining("laws hold")]);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../support/peftCli.js";

/*
 * The published package as a user's TypeScript project sees it: packed, installed from the npm
 * cache into a scratch project with a default strict tsconfig (no skipLibCheck, no `types`),
 * type-checked. Our own declarations must be clean; what remains is tfjs-core 4.22's own (its
 * pinned @webgpu/types against TypeScript's lib.dom, its `Long`), named so it cannot grow.
 */
const work = mkdtempSync(join(tmpdir(), "peft-consumer-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const tsc = join(projectRoot, "node_modules/.bin/tsc");

describe("the published types", () => {
  it("type-check in a strict consumer project: no error in peft-dsl's declarations, none at all with skipLibCheck; an experiment may leave out what its JSON may", () => {
    execFileSync("npm", ["pack", "--ignore-scripts", "--pack-destination", work], { cwd: projectRoot, stdio: "ignore" });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"))!;
    writeFileSync(join(work, "package.json"), JSON.stringify({ name: "consumer", type: "module", private: true }));
    execFileSync("npm", ["install", "--prefer-offline", "--omit=optional", "--ignore-scripts", "--no-audit", "--no-fund", `./${tarball}`], {
      cwd: work,
      stdio: "ignore",
    });
    writeFileSync(
      join(work, "main.ts"),
      [
        'import { compile, lora, combine, linearProbe, initVit, runExperiment, streamProgress, trainer, type Experiment, type ExperimentInput, type MethodInput, type Program } from "peft-dsl";',
        'import { checkLaws } from "peft-dsl/laws";',
        'const config = { image: 8, channels: 1, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" as const };',
        "const program: Program = compile(combine(lora({ rank: 2 }), linearProbe()), initVit(config, 1), { seed: 0 });",
        "const t = trainer(program, { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });",
        "streamProgress({ write: (s: string) => s.length }).info(String(t.steps()));",
        "console.log(checkLaws);",
        // An experiment written as its JSON is: the fields with defaults left out, the method without losses or rules.
        "const method: MethodInput = { targets: combine(lora({ rank: 2 }), linearProbe()).targets };",
        'const input: ExperimentInput = { data: { _tag: "Mnist", digits: [5, 6] }, method, optimizer: { _tag: "AdamW", lr: 0.005 }, schedule: { epochs: 1, batchSize: 32 } };',
        'const run = runExperiment(input, { outDir: "runs/x", resume: false, progress: streamProgress(), baseDir: "." });',
        "declare const decoded: Experiment;",
        "const again: ExperimentInput = decoded;",
        "// @ts-expect-error the learning rate has no default",
        'const noLr: ExperimentInput = { ...input, optimizer: { _tag: "AdamW" } };',
        "console.log(run, again, noLr);",
        "",
      ].join("\n"),
    );
    const check = (options: Record<string, unknown>) => {
      writeFileSync(
        join(work, "tsconfig.json"),
        JSON.stringify({ compilerOptions: { strict: true, module: "nodenext", target: "es2022", noEmit: true, ...options } }),
      );
      const r = spawnSync(tsc, ["-p", "."], { cwd: work, encoding: "utf8" });
      return r.stdout.split("\n").filter((l) => l.includes("error TS"));
    };
    const errors = check({});
    expect(errors.filter((l) => l.includes("peft-dsl") || l.startsWith("main.ts"))).toEqual([]);
    const files = [...new Set(errors.map((l) => l.replace(/\(\d+,\d+\).*/, "").replace(/.*node_modules\//, "")))];
    for (const f of files)
      expect(f, errors.join("\n")).toMatch(
        /^(@webgpu\/types\/dist\/index\.d\.ts|@typescript\/.*lib\.dom\.d\.ts|@tensorflow\/tfjs-core\/dist\/hash_util\.d\.ts)$/,
      );
    expect(check({ skipLibCheck: true })).toEqual([]);
  });
});

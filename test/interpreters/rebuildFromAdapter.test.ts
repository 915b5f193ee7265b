import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { combine, method, target } from "../../src/dsl/method.js";
import { role } from "../../src/dsl/selector.js";
import { lowRank, permuted, quantized, spectral, sum } from "../../src/dsl/transform.js";
import { adaptFormer, biAdaptFormer, biLoRA, bitFit, fourierFT, fullFineTuning, linearProbe, lora, rlrr, s2ft, ssf } from "../../src/methods/index.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { adapterBytes } from "../../src/interpreters/adapterFile.js";
import { mergedBackbone } from "../../src/interpreters/merge.js";
import { backboneBytes } from "../../src/models/backbone.js";
import { randomVit } from "../../src/models/randomVit.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { randomAdapterValues } from "../../laws/setting.js";
import { useBackend } from "../support/backend.js";

/*
 * The README's adapter layout is enough to apply an adapter elsewhere: a standalone script that
 * imports nothing from this library (examples/rebuild-from-adapter.mjs) rebuilds ΔW from
 * adapter.safetensors, and it equals merged − base to 1e-5 relative, for every primitive.
 */
const script = fileURLToPath(new URL("../../examples/rebuild-from-adapter.mjs", import.meta.url));
const config: VitConfig = { image: 8, channels: 3, patch: 4, width: 8, depth: 2, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" };
const random = (seed: number) => ({ _tag: "Random", seed }) as const;

const methods = {
  "LoRA + head": combine(lora({ rank: 2 }), linearProbe()),
  FourierFT: fourierFT({ coefficients: 6, alpha: 3 }),
  "S²FT's expression (orders as stored)": combine(s2ft({ coefficients: 5, alpha: 2, batches: 1 })),
  RLRR: rlrr(),
  SSF: ssf(),
  "Bi-LoRA": biLoRA({ rank: 2, scale: 2 }),
  BitFit: bitFit(),
  full: fullFineTuning(),
  AdaptFormer: adaptFormer({ bottleneck: 2, scale: 0.5 }),
  "Bi-AdaptFormer + LoRA": combine(biAdaptFormer({ bottleneck: 3 }), lora({ rank: 1 })),
  "1-bit LoRA and a spectrum in nested permuted domains": method({
    targets: [
      target(
        role("q", "v", "fc1"),
        permuted(
          { rows: random(1), cols: random(2) },
          sum(quantized({ bits: 1 }, lowRank({ rank: 2 })), permuted({ rows: random(3), cols: { _tag: "Identity" } }, spectral({ coefficients: 4, scale: 2 }))),
        ),
      ),
    ],
  }),
};

describe("rebuilding ΔW from adapter.safetensors with the documented layout alone", () => {
  useBackend();
  const dir = mkdtempSync(join(tmpdir(), "peft-rebuild-"));
  for (const [name, m] of Object.entries(methods)) {
    for (const kept of [undefined, [2, 0]]) {
      it(`${name}${kept ? ", on a backbone that keeps adapters" : ""}`, async () => {
        const c = kept ? { ...config, mlpAdapters: kept } : config;
        const backbone = randomVit(c, 5);
        const program = compile(m, backbone, { seed: 5 });
        try {
          program.setValues(await randomAdapterValues(program, backbone.weights, 5));
          const files = ["base", "adapter", "merged"].map((f) => join(dir, `${f}.safetensors`));
          writeFileSync(files[0]!, backboneBytes(backbone));
          writeFileSync(files[1]!, await adapterBytes(program, "keep"));
          writeFileSync(files[2]!, backboneBytes(await mergedBackbone(program)));
          const r = spawnSync(process.execPath, [script, ...files], { encoding: "utf8" });
          expect(r.status, r.stderr + r.stdout).toBe(0);
          const report = JSON.parse(r.stdout) as { changed: number; worstRelativeError: number };
          expect(report.changed).toBeGreaterThan(0);
          expect(report.worstRelativeError).toBeLessThanOrEqual(1e-5);
        } finally {
          program.dispose();
        }
      });
    }
  }
  it("and fails loudly on a wrong rebuild", async () => {
    const backbone = randomVit(config, 5);
    const program = compile(lora({ rank: 2 }), backbone, { seed: 5 });
    program.setValues(await randomAdapterValues(program, backbone.weights, 5));
    const files = ["base", "adapter", "merged"].map((f) => join(dir, `${f}.safetensors`));
    writeFileSync(files[0]!, backboneBytes(backbone));
    writeFileSync(files[1]!, await adapterBytes(program, "keep"));
    // The merged file of other adapter values: the rebuild must not match it.
    program.setValues(await randomAdapterValues(program, backbone.weights, 6));
    writeFileSync(files[2]!, backboneBytes(await mergedBackbone(program)));
    program.dispose();
    expect(spawnSync(process.execPath, [script, ...files], { encoding: "utf8" }).status).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});

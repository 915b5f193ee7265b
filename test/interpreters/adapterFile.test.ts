import { describe, expect, it } from "vitest";
import { adapterBytes, readAdapter } from "../../src/interpreters/adapterFile.js";
import { compile } from "../../src/interpreters/compile/program.js";
import { combine } from "../../src/dsl/method.js";
import { fourierFT, linearProbe, lora } from "../../src/methods/index.js";
import { randomVit } from "../../src/models/randomVit.js";
import { readSafetensors } from "../../src/models/safetensors.js";
import { logitsOf } from "../../laws/harness.js";
import { imagesTensor, randomAdapterValues, randomImages } from "../../laws/setting.js";
import { useBackend } from "../support/backend.js";

const config = { image: 8, channels: 3, patch: 4, width: 8, depth: 2, heads: 2, mlpRatio: 2, classes: 3, layerNormEps: 1e-6, gelu: "erf" as const };

describe("adapter.safetensors", () => {
  useBackend();

  it("round-trips a trained-looking adapter: same method, layout, int32 positions, identical logits", async () => {
    const method = combine(lora({ rank: 2 }), fourierFT({ coefficients: 5, alpha: 3, positions: { _tag: "Uniform", seed: 4, share: "site" } }), linearProbe());
    const backbone = randomVit(config, 1);
    const program = compile(method, backbone, { seed: 2 });
    const fresh = compile(method, backbone, { seed: 99 });
    const images = imagesTensor(config, randomImages(config, 3, 5));
    try {
      program.setValues(await randomAdapterValues(program, backbone.weights, 6));
      const bytes = await adapterBytes(program, "keep");
      const raw = readSafetensors(bytes);
      expect(raw.tensors.get("blocks.1.attn.qkv.weight[v]/1/positions")?.dtype).toBe("I32");
      const file = readAdapter(bytes, "adapter");
      expect(file.method).toEqual(method);
      expect(file.layout["blocks.0.attn.qkv.weight[q]/1/spectrum"]).toEqual({ param: "blocks.0.attn.qkv.weight", rows: [0, 8], role: "spectrum", scale: 3 });
      fresh.setValues(file.values);
      expect(logitsOf(fresh, images)).toEqual(logitsOf(program, images));
      expect(() => fresh.setValues(new Map([["blocks.0.attn.qkv.weight[q]/1/positions", new Float32Array(5)]]))).toThrowError(/must be int32/);
    } finally {
      program.dispose();
      fresh.dispose();
      images.dispose();
    }
  });
});

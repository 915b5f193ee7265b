import { describe, expect, it } from "vitest";
import { countMethod } from "../../src/interpreters/count.js";
import { adaptFormer, biAdaptFormer, biLoRA, bitFit, fourierFT, fullFineTuning, linearProbe, lora, rlrr, s2ft, ssf } from "../../src/methods/index.js";
import { combine } from "../../src/dsl/method.js";
import { vitB16 } from "../../src/models/vitConfig.js";

/** Counts on ViT-B/16 as the papers and HF PEFT report them. */
describe("count on ViT-B/16", () => {
  it("LoRA r8 on q, v: 12 blocks × 2 × 8 × (768 + 768) = 294,912 (HF PEFT's figure)", () => {
    expect(countMethod(lora(), vitB16).trainable).toBe(294_912);
  });
  it("Bi-LoRA r8 on q, v: LoRA's 294,912 scalars, each used at 1 bit", () => {
    expect(countMethod(biLoRA(), vitB16).trainable).toBe(294_912);
    // AdaptFormer: 12 × (2·8·768 + 8 + 768) = 156,768 (the 0.16M of BAFT's and NOAH's tables); 64: 1,189,632.
    expect(countMethod(adaptFormer(), vitB16).trainable).toBe(156_768);
    // S²FT n = 3000 on q, v: 72,000 = the paper's 0.08% of ViT-B/16 (orders and positions are fixed state).
    expect(countMethod(s2ft(), vitB16).trainable).toBe(72_000);
    expect(countMethod(s2ft(), vitB16).percent).toBeCloseTo(0.084, 3);
    expect(countMethod(adaptFormer({ bottleneck: 64 }), vitB16).trainable).toBe(1_189_632);
    expect(countMethod(biAdaptFormer(), vitB16).trainable).toBe(12 * 2 * 8 * 768);
  });
  it("RLRR: 12 × (q, k, v, proj: 4 × 1536; fc1, fc2: 2 × 3840) + 12 × (2304 + 768 + 3072 + 768) biases + SSF on 25 norms and the patch embedding (26 × 2 × 768)", () => {
    expect(countMethod(rlrr(), vitB16).trainable).toBe(12 * (4 * 1536 + 2 * 3840) + 12 * (2304 + 768 + 3072 + 768) + 26 * 2 * 768);
  });
  it("SSF: γ and β for every linear, LayerNorm and the patch embedding: 12 × 2 × (2304 + 768 + 3072 + 768 + 2 × 768) + 2 × (768 + 768)", () => {
    expect(countMethod(ssf(), vitB16).trainable).toBe(12 * 2 * (2304 + 768 + 3072 + 768 + 2 * 768) + 2 * (768 + 768));
  });
  it("FourierFT n = 3000 on q, v: 24 × 3000 = 72,000 (0.072M in the FourierFT paper)", () => {
    expect(countMethod(fourierFT(), vitB16).trainable).toBe(72_000);
  });
  it("BitFit: 12 × (2304 + 768 + 3072 + 768 + 768 + 768) + patch and final-norm biases = 102,912 (0.10M in the SSF/VPT tables)", () => {
    expect(countMethod(combine(bitFit(), linearProbe()), vitB16).trainable).toBe(102_912 + 76_900);
  });
  it("linear probe with a 100-class head: 768 × 100 + 100", () => {
    expect(countMethod(linearProbe(), vitB16).trainable).toBe(76_900);
  });
  it("full fine-tuning: every parameter of timm's vit_base_patch16_224 with a 100-class head", () => {
    // 85,798,656 in the 1000-class timm model's body + the head: 768·100 + 100.
    expect(countMethod(fullFineTuning(), vitB16).trainable).toBe(85_798_656 + 76_900);
  });
});

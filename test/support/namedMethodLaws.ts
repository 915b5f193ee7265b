import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { checkLaws } from "../../laws/index.js";
import { combine } from "../../src/dsl/method.js";
import {
  adaptFormer,
  baft,
  biAdaptFormer,
  biLoRA,
  bitFit,
  daf,
  fourierFT,
  fullFineTuning,
  linearProbe,
  lora,
  rlrr,
  s2ft,
  ssf,
} from "../../src/methods/index.js";
import { lowRank, rescale } from "../../src/dsl/transform.js";
import { useBackend } from "./backend.js";
import type { BackendName } from "../../src/train/backend.js";

/** The shipped methods, as the examples use them. */
export const namedMethods = {
  "LoRA r8 on q,v + head": combine(lora(), linearProbe()),
  "LoRA r4 on every linear (α = 16, scale α)": lora({ rank: 4, alpha: 16, scaling: "alpha", roles: ["qkv", "proj", "fc1", "fc2"] }),
  "linear probe": linearProbe(),
  "BitFit + head": combine(bitFit(), linearProbe()),
  "RLRR (code init) + head": combine(rlrr(), linearProbe()),
  "SSF + head": combine(ssf(), linearProbe()),
  "RLRR, zero init": rlrr({ init: "zeros" }),
  "Bi-LoRA r4, s = 10 + head": combine(biLoRA({ rank: 4, scale: 10 }), linearProbe()),
  "FourierFT (n = 5 per matrix, α = 4) + head": combine(fourierFT({ coefficients: 5, alpha: 4 }), linearProbe()),
  "FourierFT, zero init, positions per site": fourierFT({ coefficients: 3, alpha: 2, init: "zeros", positions: { _tag: "Uniform", seed: 1, share: "site" } }),
  "AdaptFormer (bottleneck 2, s = 1) + head": combine(adaptFormer({ bottleneck: 2, scale: 1 }), linearProbe()),
  "Bi-AdaptFormer (bottleneck 3, s = 2) + LoRA": combine(biAdaptFormer({ bottleneck: 3, scale: 2 }), lora({ rank: 2 })),
  "S²FT (n = 4 per matrix, α = 4) + head": combine(s2ft({ coefficients: 4, alpha: 4, batches: 2 }), linearProbe()),
  "full fine-tuning": fullFineTuning(),
  "DAF (LoRA r2, τ = 0.5) + head": combine(daf({ budget: 0.5, module: lowRank({ rank: 2, alpha: 1, scaling: "alpha" }) }), linearProbe()),
  "DAF-Accumulate over RLRR rescaling (zero init) + head + BAFT": combine(
    daf({ budget: 0.5, module: rescale({ init: "zeros" }), retain: "accumulate" }),
    linearProbe(),
    baft(),
  ),
};

/** Every law on every shipped method, on one backend. */
export const namedMethodLaws = (backend: BackendName): void => {
  describe(`laws on the shipped methods (${backend})`, () => {
    useBackend(backend);
    for (const [name, method] of Object.entries(namedMethods)) {
      it(name, async () => {
        expect(tf.getBackend()).toBe(backend);
        const reports = await checkLaws(method, { runs: 6, seed: 3 });
        expect(
          reports.filter((r) => !r.ok),
          JSON.stringify(reports, null, 1),
        ).toEqual([]);
        expect(reports.map((r) => r.runs).every((n) => n === 6)).toBe(true);
      });
    }
  });
};

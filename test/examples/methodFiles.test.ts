import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { MethodCodec } from "../../src/dsl/codecs.js";
import * as methods from "../../src/methods/index.js";

/** examples/methods/*.json are the shipped constructors' defaults as JSON, for `peft count` and `peft train`. */
const files = {
  lora: methods.lora(),
  "linear-probe": methods.linearProbe(),
  full: methods.fullFineTuning(),
  fourierft: methods.fourierFT(),
  s2ft: methods.s2ft(),
  bitfit: methods.bitFit(),
  "bi-lora": methods.biLoRA(),
  rlrr: methods.rlrr(),
  ssf: methods.ssf(),
  adaptformer: methods.adaptFormer(),
  "bi-adaptformer": methods.biAdaptFormer(),
  baft: methods.baft(),
  rift: methods.rift(),
  "rift-star": methods.riftStar(),
  rsc: methods.rsc(),
  l2sp: methods.l2sp(),
  daf: methods.daf(),
  "daf-static": methods.daf({ interval: null }),
  "daf-naive": methods.daf({ analysis: "pristine" }),
  "daf-accumulate": methods.daf({ retain: "accumulate" }),
};

describe("examples/methods", () => {
  for (const [name, m] of Object.entries(files)) {
    it(`${name}.json is ${name}'s constructor, encoded`, () => {
      const json: unknown = JSON.parse(readFileSync(fileURLToPath(new URL(`../../examples/methods/${name}.json`, import.meta.url)), "utf8"));
      expect(json).toEqual(MethodCodec.encode(m));
    });
  }
});

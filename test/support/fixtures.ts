import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { readBackbone, type Backbone } from "../../src/models/backbone.js";
import { readSafetensors, toFloat32 } from "../../src/models/safetensors.js";

/** timm fixtures, copied from the project's shared/fixtures so that a fresh clone tests on its own. */
export const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export const timmTiny = (): Backbone => readBackbone(readFileSync(fixturePath("timm-vit-tiny.safetensors")), "timm-vit-tiny");

export const timmTinyIo = (): Map<string, { shape: readonly number[]; data: Float32Array }> => {
  const file = readSafetensors(readFileSync(fixturePath("timm-vit-tiny-io.safetensors")));
  return new Map([...file.tensors].map(([k, v]) => [k, { shape: v.shape, data: toFloat32(v) }]));
};

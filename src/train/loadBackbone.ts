import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Effect } from "effect";
import { atImageSize, readBackbone, readNpzBackbone, type ArchitectureSource, type Backbone } from "../models/backbone.js";
import { defaultBackbonePath } from "../util/packageRoot.js";
import { BadInput } from "./errors.js";
import { readInputFile } from "./readInputFile.js";

/** "default" is the embedded demo backbone; other paths are relative to `baseDir`. */
export const backbonePath = (weights: string, baseDir: string): string => (weights === "default" ? defaultBackbonePath() : resolve(baseDir, weights));

/** How to read a checkpoint that does not carry our config: its timm architecture, and the image size to fine-tune at. */
export interface ReadOptions {
  /** A timm model name (`vit_base_patch16_224`, optionally `.tag`); without it, inferred from the tensor shapes. */
  readonly arch?: string;
  /** Fine-tuning image size; the position embedding is resampled to it as timm's `resample_abs_pos_embed` does (bicubic). */
  readonly image?: number;
}

/** An experiment's backbone fields as read options. */
export const readOptions = (b: { readonly arch?: string; readonly image?: number }): ReadOptions => ({
  ...(b.arch === undefined ? {} : { arch: b.arch }),
  ...(b.image === undefined ? {} : { image: b.image }),
});

const isZip = (bytes: Uint8Array) => bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;

/**
 * A checkpoint in whichever format the path holds, detected from the files: a timm hub folder
 * (config.json + model.safetensors), a checkpoint file with a timm config.json beside it, Google's
 * .npz, a bare timm safetensors state dict, or our own safetensors with its config in the metadata.
 */
const readCheckpoint = (path: string, field: string, hint: string, arch: string | undefined): Backbone => {
  const folder = existsSync(path) && statSync(path).isDirectory();
  const file = folder ? join(path, "model.safetensors") : path;
  if (folder && !existsSync(file)) {
    const other = ["pytorch_model.bin", "open_clip_pytorch_model.bin"].find((f) => existsSync(join(path, f)));
    throw new BadInput({
      lines: [`${field}: ${path} has no model.safetensors${other ? ` (${other} is a pickle; save the state dict with safetensors)` : ""}`],
    });
  }
  const bytes = readInputFile(file, field, hint);
  const configPath = join(dirname(file), "config.json");
  // An explicit --arch wins over a config.json lying beside the file.
  const from: ArchitectureSource =
    arch !== undefined ? { arch } : existsSync(configPath) ? { hubConfig: { text: readFileSync(configPath, "utf8"), path: configPath } } : {};
  if (folder && from.hubConfig === undefined)
    throw new BadInput({ lines: [`${field}: ${path} has no config.json (a timm hub folder holds config.json and model.safetensors)`] });
  return isZip(bytes) ? readNpzBackbone(bytes, file, from) : readBackbone(bytes, file, from);
};

/** Read a backbone checkpoint; failures name `field` and say what is wrong with the file. */
export const readBackboneFile = (path: string, field = "backbone.weights", hint = "", options: ReadOptions = {}): Backbone => {
  try {
    const loaded = readCheckpoint(path, field, hint, options.arch);
    return options.image === undefined ? loaded : atImageSize(loaded, options.image, `${field}: image`);
  } catch (e) {
    if (e instanceof BadInput) throw e;
    throw new BadInput({ lines: [`${field}: ${(e as Error).message}${hint}`] });
  }
};

export const loadBackbone = (path: string, field = "backbone.weights", options: ReadOptions = {}): Effect.Effect<Backbone, BadInput> =>
  Effect.try({ try: () => readBackboneFile(path, field, "", options), catch: (e) => e as BadInput });

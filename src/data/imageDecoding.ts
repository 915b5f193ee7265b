import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { ImageDecoding } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import type { Dataset } from "./dataset.js";

/** A file or folder of an image dataset that cannot be used, named. */
export class ImageDataError extends Error {
  override readonly name = "ImageDataError";
}

/** One image as the model's input: channels converted, resized, uint8 H×W×C. */
const decode = async (file: string, task: ImageDecoding, c: VitConfig): Promise<Uint8Array> => {
  const size = c.image;
  let image = sharp(file, { failOn: "error" }).flatten({ background: "#000000" });
  image = c.channels === 1 ? image.grayscale() : image.toColourspace("srgb");
  if (task.resize === "squash") {
    const { data } = await image.resize(size, size, { fit: "fill", kernel: "cubic" }).raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  // timm's eval transform: the shorter side to ⌊size / crop_pct⌋ (bicubic), then the centre size × size.
  const side = Math.floor(size / task.cropPct);
  const { data, info } = await image.resize(side, side, { fit: "outside", kernel: "cubic" }).raw().toBuffer({ resolveWithObject: true });
  const left = Math.round((info.width - size) / 2);
  const top = Math.round((info.height - size) / 2);
  const out = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } }).extract({ left, top, width: size, height: size }).raw().toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};

/** How a set of image files was read. */
export interface Decoded {
  /** uint8 H×W×C per file, null for a file that could not be decoded (onBadImage "skip"). */
  readonly pixels: readonly (Uint8Array | null)[];
  /** Files that could not be decoded and were left out (onBadImage "skip"). */
  readonly skipped: readonly string[];
  readonly decodeSeconds: number;
  /** "hit": the decoded images came from the cache; "written": decoded and cached; "off": the folder is not writable. */
  readonly cache: "hit" | "written" | "off";
}

/**
 * The decoded-image cache of a folder: `<root>/.peft-cache/<key>.u8`, the key a hash of every
 * file's path, size and mtime and of the decoding (size, channels, resize, crop), so a changed
 * file or setting decodes afresh. Content: one JSON line (which files failed), then the uint8
 * images of the others in file order.
 */
const cachePath = (root: string, files: readonly string[], task: ImageDecoding, c: VitConfig): string => {
  const hash = createHash("sha1");
  hash.update(JSON.stringify({ image: c.image, channels: c.channels, resize: task.resize, cropPct: task.resize === "crop" ? task.cropPct : null }));
  for (const f of files) {
    const s = statSync(f);
    hash.update(`${f.slice(root.length)}\0${s.size}\0${s.mtimeMs}\n`);
  }
  return join(root, ".peft-cache", `${hash.digest("hex").slice(0, 20)}.u8`);
};

const readCache = (path: string, count: number, pixels: number): (Uint8Array | null)[] | null => {
  if (!existsSync(path)) return null;
  const bytes = readFileSync(path);
  const newline = bytes.indexOf(10);
  let bad: number[];
  try {
    bad = (JSON.parse(bytes.subarray(0, newline).toString("utf8")) as { bad: number[] }).bad;
  } catch {
    // A damaged cache file is decoded afresh (and rewritten).
    return null;
  }
  if (bytes.byteLength - newline - 1 !== (count - bad.length) * pixels) return null;
  const failed = new Set(bad);
  let at = newline + 1;
  return Array.from({ length: count }, (_, i) => {
    if (failed.has(i)) return null;
    const img = bytes.subarray(at, at + pixels);
    at += pixels;
    return img;
  });
};

const writeCache = (path: string, decoded: readonly (Uint8Array | null)[]): boolean => {
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    const head = Buffer.from(`${JSON.stringify({ bad: decoded.flatMap((d, i) => (d === null ? [i] : [])) })}\n`);
    writeFileAtomic(path, Buffer.concat([head, ...decoded.filter((d): d is Uint8Array => d !== null)]));
    return true;
  } catch {
    // A read-only dataset folder still trains; it decodes every time.
    return false;
  }
};

/** Every file decoded with sharp (a few at a time) or read from the folder's cache; an unreadable file is an error naming it unless onBadImage is "skip". */
export const decodeImages = async (root: string, files: readonly string[], task: ImageDecoding, c: VitConfig): Promise<Decoded> => {
  const started = performance.now();
  const pixels = c.image * c.image * c.channels;
  const cache = cachePath(root, files, task, c);
  const cached = readCache(cache, files.length, pixels);
  const decoded: (Uint8Array | null)[] = cached ?? new Array(files.length).fill(null);
  let next = cached === null ? 0 : files.length;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        decoded[i] = await decode(files[i]!, task, c);
      } catch (e) {
        if (task.onBadImage === "error") throw new ImageDataError(`data: ${files[i]!} is not a readable image (${(e as Error).message}); fix or remove it, or set data.onBadImage to "skip"`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const skipped = files.filter((_, i) => decoded[i] === null);
  // Only a cache written by a run that skipped failures can name one.
  if (skipped.length > 0 && task.onBadImage === "error") throw new ImageDataError(`data: ${skipped[0]} is not a readable image; fix or remove it, or set data.onBadImage to "skip"`);
  const state = cached !== null ? "hit" : writeCache(cache, decoded) ? "written" : "off";
  return { pixels: decoded, skipped, decodeSeconds: (performance.now() - started) / 1000, cache: state };
};

/** Examples as a model-ready dataset: (v/255 − mean)/std per channel (the checkpoint's pretrained_cfg, else 0.5 and 0.5). */
export const normalisedDataset = (examples: readonly { readonly pixels: Uint8Array; readonly label: number }[], task: ImageDecoding, c: VitConfig, pretrained?: PretrainedCfg): Dataset => {
  const mean = task.mean ?? pretrained?.mean ?? [0.5];
  const std = task.std ?? pretrained?.std ?? [0.5];
  for (const [field, v] of [["mean", mean], ["std", std]] as const) {
    if (v.length !== 1 && v.length !== c.channels) throw new ImageDataError(`data.${field}: expected 1 or ${c.channels} values (the model's channels), got ${v.length}`);
  }
  const size = c.image * c.image * c.channels;
  const images = new Float32Array(examples.length * size);
  examples.forEach((e, k) => {
    for (let j = 0; j < size; j++) {
      const ch = j % c.channels;
      images[k * size + j] = (e.pixels[j]! / 255 - mean[ch % mean.length]!) / std[ch % std.length]!;
    }
  });
  return { images, labels: Int32Array.from(examples, (e) => e.label), count: examples.length, shape: [c.image, c.image, c.channels] };
};

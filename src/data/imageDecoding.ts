import sharp from "sharp";
import type { ImageDecoding } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import type { Dataset } from "./dataset.js";
import { cacheKey, openSlots, readSlots, writeSlots, type ImageSlots } from "./imageCache.js";
import { imagePreprocessing } from "./preprocessing.js";

/** A file or folder of an image dataset that cannot be used, named. */
export class ImageDataError extends Error {
  override readonly name = "ImageDataError";
}

/** Python's round(): a half goes to the even neighbour. */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return x - Math.floor(x) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/** One image as the model's input: channels converted, resized, uint8 H×W×C. */
const decode = async (file: string, task: ImageDecoding, c: VitConfig): Promise<Uint8Array> => {
  const size = c.image;
  let image = sharp(file, { failOn: "error" }).flatten({ background: "#000000" });
  image = c.channels === 1 ? image.grayscale() : image.toColourspace("srgb");
  if (task.resize === "squash") {
    const { data } = await image.resize(size, size, { fit: "fill", kernel: "cubic" }).raw().toBuffer({ resolveWithObject: true });
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  // timm's eval transform, as torchvision computes it: the shorter side to ⌊size / crop_pct⌋ and the
  // longer in proportion, rounded down (bicubic); then the centre size × size, its offsets rounded
  // as Python's round() does (a half to the even neighbour).
  const side = Math.floor(size / task.cropPct);
  const { width = 0, height = 0 } = await sharp(file).metadata();
  const [w, h] = width <= height ? [side, Math.floor((side * height) / width)] : [Math.floor((side * width) / height), side];
  const { data, info } = await image.resize(w, h, { fit: "fill", kernel: "cubic" }).raw().toBuffer({ resolveWithObject: true });
  const left = roundHalfEven((w - size) / 2);
  const top = roundHalfEven((h - size) / 2);
  const out = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } })
    .extract({ left, top, width: size, height: size })
    .raw()
    .toBuffer();
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
};

/** How a set of image files was read. */
export interface Decoded {
  /** The decoded images, one slot per file in the order given. */
  readonly slots: ImageSlots;
  /** Files that could not be decoded and were left out (onBadImage "skip"). */
  readonly skipped: readonly string[];
  readonly decodeSeconds: number;
  /** "hit": the decoded images came from the cache; "written": decoded and cached. */
  readonly cache: "hit" | "written";
}

/**
 * Every file decoded with sharp (a few at a time) straight into the folder's cache, or the cache
 * as it is; an unreadable file is an error naming it unless onBadImage is "skip".
 */
export const decodeImages = async (root: string, files: readonly string[], task: ImageDecoding, c: VitConfig, progress?: Counter): Promise<Decoded> => {
  const started = performance.now();
  const pixels = c.image * c.image * c.channels;
  const { dirs, key } = cacheKey(root, files, {
    image: c.image,
    channels: c.channels,
    resize: task.resize,
    cropPct: task.resize === "crop" ? task.cropPct : null,
  });
  const found = openSlots(dirs, key, files.length, pixels);
  if (found !== null) {
    // Only a cache written by a run that skipped failures can name one.
    if (found.bad.size > 0 && task.onBadImage === "error")
      throw new ImageDataError(`data: ${files[Math.min(...found.bad)]!} is not a readable image; fix or remove it, or set data.onBadImage to "skip"`);
    return {
      slots: found,
      skipped: [...found.bad].sort((a, b) => a - b).map((i) => files[i]!),
      decodeSeconds: (performance.now() - started) / 1000,
      cache: "hit",
    };
  }
  const writer = writeSlots(dirs, key, files.length, pixels);
  const bad: number[] = [];
  let next = 0;
  let done = 0;
  let failed = false;
  const worker = async () => {
    while (next < files.length && !failed) {
      const i = next++;
      let image: Uint8Array;
      try {
        image = await decode(files[i]!, task, c);
      } catch (e) {
        if (task.onBadImage === "error") {
          failed = true;
          throw new ImageDataError(`data: ${files[i]!} is not a readable image (${(e as Error).message}); fix or remove it, or set data.onBadImage to "skip"`);
        }
        bad.push(i);
        continue;
      } finally {
        progress?.(++done, files.length);
      }
      // Another worker's failure has closed the file.
      if (!failed) writer.put(i, image);
    }
  };
  try {
    await Promise.all(Array.from({ length: 4 }, worker));
  } catch (e) {
    writer.abandon();
    throw e;
  }
  bad.sort((a, b) => a - b);
  return { slots: writer.commit(bad), skipped: bad.map((i) => files[i]!), decodeSeconds: (performance.now() - started) / 1000, cache: "written" };
};

/**
 * Cached images as a model-ready dataset, read from disk a batch at a time and normalised as
 * read: (v/255 − mean)/std per channel (imagePreprocessing's).
 */
export const cachedDataset = (
  slots: ImageSlots,
  examples: readonly { readonly slot: number; readonly label: number }[],
  task: ImageDecoding,
  c: VitConfig,
  pretrained?: PretrainedCfg,
): Dataset => {
  const { mean, std } = imagePreprocessing(task, c, pretrained);
  const scale = std.map((s) => 1 / 255 / s);
  const shift = mean.map((m, ch) => -m / std[ch]!);
  return {
    labels: Int32Array.from(examples, (e) => e.label),
    count: examples.length,
    shape: [c.image, c.image, c.channels],
    read: (indices) => {
      const raw = readSlots(
        slots,
        indices.map((i) => examples[i]!.slot),
      );
      const images = new Float32Array(raw.length);
      for (let j = 0; j < raw.length; j++) images[j] = raw[j]! * scale[j % c.channels]! + shift[j % c.channels]!;
      return images;
    },
  };
};

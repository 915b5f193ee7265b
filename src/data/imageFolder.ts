import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import sharp from "sharp";
import type { ImageFolder, Task } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import { rng, shuffled } from "../util/random.js";
import type { Dataset } from "./dataset.js";
import type { TaskData } from "./task.js";
import { writeFileAtomic } from "../util/atomicWrite.js";

/** A file or folder of an image dataset that cannot be used, named. */
export class ImageFolderError extends Error {
  override readonly name = "ImageFolderError";
}

const imageFile = /\.(jpe?g|png|webp)$/i;

const entries = (dir: string): string[] => {
  try {
    return readdirSync(dir).filter((name) => !name.startsWith(".")).sort();
  } catch (e) {
    throw new ImageFolderError(`data.root: ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such folder" : (e as Error).message}`);
  }
};

/** The class sub-folders of a dataset folder, sorted by name; an empty class or none at all is an error naming the folder. */
export const readClasses = (root: string): string[] => {
  const classes = entries(root).filter((name) => statSync(join(root, name)).isDirectory());
  if (classes.length < 2) throw new ImageFolderError(`data.root: ${root} holds ${classes.length} class sub-folder(s); expected at least two (one folder of images per class)`);
  for (const c of classes) {
    if (!entries(join(root, c)).some((f) => imageFile.test(f))) throw new ImageFolderError(`data.root: class folder ${join(root, c)} holds no .jpg, .png or .webp image`);
  }
  return classes;
};

/** A task with an image folder's classes read from it (in-memory tasks as they are). */
export const resolveTask = (task: Task, baseDir: string): Task =>
  task._tag !== "ImageFolder" || task.classes !== undefined ? task : { ...task, classes: readClasses(resolve(baseDir, task.root)) };

/** One image as the model's input: channels converted, resized, uint8 H×W×C. */
const decode = async (file: string, task: ImageFolder, c: VitConfig): Promise<Uint8Array> => {
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

export interface LoadedFolder extends TaskData {
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
const cachePath = (root: string, files: readonly string[], task: ImageFolder, c: VitConfig): string => {
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
  const { bad } = JSON.parse(bytes.subarray(0, newline).toString("utf8")) as { bad: number[] };
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

/**
 * An image folder as train, val and test sets for a backbone: every image decoded with sharp
 * (a few at a time), resized and normalised; train and val drawn with the split's seed (FewShot:
 * `shots` per class), the rest the test set.
 */
export const loadImageFolder = async (task: ImageFolder, baseDir: string, c: VitConfig, pretrained?: PretrainedCfg): Promise<LoadedFolder> => {
  const root = resolve(baseDir, task.root);
  const classes = task.classes ?? readClasses(root);
  const files = classes.flatMap((name, label) => entries(join(root, name)).filter((f) => imageFile.test(f)).map((f) => ({ file: join(root, name, f), label })));
  const mean = task.mean ?? pretrained?.mean ?? [0.5];
  const std = task.std ?? pretrained?.std ?? [0.5];
  for (const [field, v] of [["mean", mean], ["std", std]] as const) {
    if (v.length !== 1 && v.length !== c.channels) throw new ImageFolderError(`data.${field}: expected 1 or ${c.channels} values (the model's channels), got ${v.length}`);
  }
  const started = performance.now();
  const pixels = c.image * c.image * c.channels;
  const cache = cachePath(root, files.map((f) => f.file), task, c);
  const cached = readCache(cache, files.length, pixels);
  const decoded: (Uint8Array | null)[] = cached ?? new Array(files.length).fill(null);
  let next = cached === null ? 0 : files.length;
  const worker = async () => {
    while (next < files.length) {
      const i = next++;
      try {
        decoded[i] = await decode(files[i]!.file, task, c);
      } catch (e) {
        if (task.onBadImage === "error") throw new ImageFolderError(`data: ${files[i]!.file} is not a readable image (${(e as Error).message}); fix or remove it, or set data.onBadImage to "skip"`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  const skipped = files.filter((_, i) => decoded[i] === null).map((f) => f.file);
  // Only a cache written by a run that skipped failures can name one.
  if (skipped.length > 0 && task.onBadImage === "error") throw new ImageFolderError(`data: ${skipped[0]} is not a readable image; fix or remove it, or set data.onBadImage to "skip"`);
  const cacheState = cached !== null ? "hit" : writeCache(cache, decoded) ? "written" : "off";
  const decodeSeconds = (performance.now() - started) / 1000;
  const usable = files.map((f, i) => ({ ...f, pixels: decoded[i] })).filter((f): f is typeof f & { pixels: Uint8Array } => f.pixels !== null);
  const dataset = (picks: readonly number[]): Dataset => {
    const images = new Float32Array(picks.length * pixels);
    picks.forEach((p, k) => {
      const src = usable[p]!.pixels;
      for (let j = 0; j < pixels; j++) {
        const ch = j % c.channels;
        images[k * pixels + j] = (src[j]! / 255 - mean[ch % mean.length]!) / std[ch % std.length]!;
      }
    });
    return { images, labels: Int32Array.from(picks, (p) => usable[p]!.label), count: picks.length, shape: [c.image, c.image, c.channels] };
  };
  const order = shuffled(usable.map((_, i) => i), rng(task.seed, "split"));
  const split = task.split;
  const train = split._tag === "Vtab1k" ? order.slice(0, split.train) : classes.flatMap((_, label) => order.filter((i) => usable[i]!.label === label).slice(0, split.shots));
  const taken = new Set(train);
  const rest = order.filter((i) => !taken.has(i));
  const wanted = (split._tag === "Vtab1k" ? split.train : split.shots * classes.length) + split.val;
  if (train.length + Math.min(split.val, rest.length) < wanted) throw new ImageFolderError(`data.split asks for ${wanted} training and validation images; ${root} holds ${usable.length} usable ones`);
  const val = rest.slice(0, split.val);
  const test = rest.slice(split.val, task.testLimit === null ? undefined : split.val + task.testLimit);
  return { train: dataset(train), val: dataset(val), test: dataset(test), classes: classes.length, skipped, decodeSeconds, cache: cacheState };
};

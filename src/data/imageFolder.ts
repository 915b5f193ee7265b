import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ImageFolder } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import { rng, shuffled } from "../util/random.js";
import { cachedDataset, decodeImages, ImageDataError, type Decoded } from "./imageDecoding.js";
import type { TaskData } from "./task.js";

const imageFile = /\.(jpe?g|png|webp)$/i;

const entries = (dir: string): string[] => {
  try {
    return readdirSync(dir)
      .filter((name) => !name.startsWith("."))
      .sort();
  } catch (e) {
    throw new ImageDataError(`data.root: ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such folder" : (e as Error).message}`);
  }
};

/** The class sub-folders of a dataset folder, sorted by name; an empty class or none at all is an error naming the folder. */
export const readClasses = (root: string): string[] => {
  const classes = entries(root).filter((name) => statSync(join(root, name)).isDirectory());
  if (classes.length < 2)
    throw new ImageDataError(`data.root: ${root} holds ${classes.length} class sub-folder(s); expected at least two (one folder of images per class)`);
  for (const c of classes) {
    if (!entries(join(root, c)).some((f) => imageFile.test(f)))
      throw new ImageDataError(`data.root: class folder ${join(root, c)} holds no .jpg, .png or .webp image`);
  }
  return classes;
};

/** The class sub-folders of an image folder: its own, or its train folder's when the splits are explicit. */
export const folderClasses = (task: ImageFolder, root: string): string[] => readClasses(task.folders === undefined ? root : join(root, task.folders.train));

/** The images of one split folder, labelled by the train folder's classes; a class train lacks is an error naming the folder. */
const splitFiles = (root: string, split: string, classes: readonly string[]): { file: string; label: number }[] => {
  const dir = join(root, split);
  const present = entries(dir).filter((name) => statSync(join(dir, name)).isDirectory());
  const unknown = present.find((name) => !classes.includes(name));
  if (unknown !== undefined) throw new ImageDataError(`data.folders: ${join(dir, unknown)} is a class the train folder does not have (${classes.join(", ")})`);
  return present.flatMap((name) =>
    entries(join(dir, name))
      .filter((f) => imageFile.test(f))
      .map((f) => ({ file: join(dir, name, f), label: classes.indexOf(name) })),
  );
};

/** Explicit train / val / test folders, each decoded (one cache for all). */
const loadSplitFolders = async (
  task: ImageFolder,
  folders: NonNullable<ImageFolder["folders"]>,
  root: string,
  c: VitConfig,
  pretrained?: PretrainedCfg,
  progress?: Counter,
): Promise<LoadedImages> => {
  const classes = task.classes ?? folderClasses(task, root);
  const [train, val, test] = [
    splitFiles(root, folders.train, classes),
    folders.val === null ? [] : splitFiles(root, folders.val, classes),
    splitFiles(root, folders.test, classes).slice(0, task.testLimit ?? undefined),
  ];
  const all = [...train, ...val, ...test];
  const { slots, ...how } = await decodeImages(
    root,
    all.map((f) => f.file),
    task,
    c,
    progress,
  );
  let at = 0;
  const dataset = (files: readonly { label: number }[]) => {
    const examples = files.flatMap((f) => {
      const slot = at++;
      return slots.bad.has(slot) ? [] : [{ slot, label: f.label }];
    });
    return cachedDataset(slots, examples, task, c, pretrained);
  };
  return { train: dataset(train), val: dataset(val), test: dataset(test), classes: classes.length, ...how };
};

/** Image data decoded into train, val and test sets, with how it was read. */
export type LoadedImages = TaskData & Omit<Decoded, "slots">;

/**
 * An image folder as train, val and test sets for a backbone: train and val drawn with the
 * split's seed (FewShot: `shots` per class), the rest the test set.
 */
export const loadImageFolder = async (
  task: ImageFolder,
  baseDir: string,
  c: VitConfig,
  pretrained?: PretrainedCfg,
  progress?: Counter,
): Promise<LoadedImages> => {
  const root = resolve(baseDir, task.root);
  if (task.folders !== undefined) return loadSplitFolders(task, task.folders, root, c, pretrained, progress);
  const classes = task.classes ?? readClasses(root);
  const files = classes.flatMap((name, label) =>
    entries(join(root, name))
      .filter((f) => imageFile.test(f))
      .map((f) => ({ file: join(root, name, f), label })),
  );
  const { slots, ...how } = await decodeImages(
    root,
    files.map((f) => f.file),
    task,
    c,
    progress,
  );
  const usable = files.map((f, slot) => ({ slot, label: f.label })).filter((f) => !slots.bad.has(f.slot));
  const dataset = (picks: readonly number[]) =>
    cachedDataset(
      slots,
      picks.map((p) => usable[p]!),
      task,
      c,
      pretrained,
    );
  const order = shuffled(
    usable.map((_, i) => i),
    rng(task.seed, "split"),
  );
  const split = task.split;
  const train =
    split._tag === "Vtab1k"
      ? order.slice(0, split.train)
      : classes.flatMap((_, label) => order.filter((i) => usable[i]!.label === label).slice(0, split.shots));
  const taken = new Set(train);
  const rest = order.filter((i) => !taken.has(i));
  const wanted = (split._tag === "Vtab1k" ? split.train : split.shots * classes.length) + split.val;
  if (train.length + Math.min(split.val, rest.length) < wanted)
    throw new ImageDataError(`data.split asks for ${wanted} training and validation images; ${root} holds ${usable.length} usable ones`);
  const val = rest.slice(0, split.val);
  const test = rest.slice(split.val, task.testLimit === null ? undefined : split.val + task.testLimit);
  return { train: dataset(train), val: dataset(val), test: dataset(test), classes: classes.length, ...how };
};

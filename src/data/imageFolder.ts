import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ImageDecoding, ImageFolder } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import { rng, shuffled } from "../util/random.js";
import { checkSplits } from "./checkSplits.js";
import { cachedDataset, decodeImages, ImageDataError, type Decoded } from "./imageDecoding.js";
import { datasetRoot, type DatasetRoot } from "./insideRoot.js";
import type { TaskData } from "./task.js";

const imageFile = /\.(jpe?g|png|webp)$/i;

const entries = (dir: string, field: string): string[] => {
  try {
    return readdirSync(dir)
      .filter((name) => !name.startsWith("."))
      .sort();
  } catch (e) {
    throw new ImageDataError(`${field}: ${dir}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such folder" : (e as Error).message}`);
  }
};

const outside = (field: string, path: string, target: string, root: string) =>
  new ImageDataError(`${field}: ${path} leads outside ${root}${target === path ? "" : ` (to ${target})`}; every image must lie inside the root`);

/** Whether `path` is a folder; one that leads outside the root, or nowhere, is an error naming it. */
const isFolder = (root: DatasetRoot, path: string, field: string): boolean => {
  const where = root.whereabouts(path);
  if (where.kind === "outside") throw outside(field, path, where.target, root.dir);
  if (where.kind === "unreadable") throw new ImageDataError(`${field}: ${path}: ${where.why}`);
  return statSync(path).isDirectory();
};

/** The sub-folders of `dir`, sorted by name. */
const subFolders = (root: DatasetRoot, dir: string, field: string): string[] => entries(dir, field).filter((name) => isFolder(root, join(dir, name), field));

/**
 * The image files of a class folder. One that leads outside the root is an error; one that leads
 * nowhere (a dangling or looping link) is an error too, unless onBadImage is "skip": then the
 * decoder leaves it out with the other unreadable files.
 */
const imagesIn = (root: DatasetRoot, dir: string, task: ImageDecoding, field: string): string[] =>
  entries(dir, field)
    .filter((name) => imageFile.test(name))
    .map((name) => join(dir, name))
    .filter((file) => {
      const where = root.whereabouts(file);
      if (where.kind === "outside") throw outside(field, file, where.target, root.dir);
      if (where.kind === "unreadable" && task.onBadImage === "error")
        throw new ImageDataError(`${field}: ${file}: ${where.why}; fix or remove it, or set data.onBadImage to "skip"`);
      return true;
    });

/** The class sub-folders of a dataset folder, sorted by name; an empty class or none at all is an error naming the folder. */
export const readClasses = (dir: string, root: DatasetRoot = datasetRoot(dir, "data.root")): string[] => {
  const classes = subFolders(root, dir, "data.root");
  if (classes.length < 2)
    throw new ImageDataError(`data.root: ${dir} holds ${classes.length} class sub-folder(s); expected at least two (one folder of images per class)`);
  for (const c of classes) {
    if (!entries(join(dir, c), "data.root").some((f) => imageFile.test(f)))
      throw new ImageDataError(`data.root: class folder ${join(dir, c)} holds no .jpg, .png or .webp image`);
  }
  return classes;
};

/** A split folder named by data.folders, checked to lie inside the root. */
const splitFolder = (root: DatasetRoot, name: string, field: string): string => {
  const dir = join(root.dir, name);
  if (!isFolder(root, dir, field)) throw new ImageDataError(`${field}: ${dir} is not a folder`);
  return dir;
};

/** The class sub-folders of an image folder: its own, or its train folder's when the splits are explicit. */
export const folderClasses = (task: ImageFolder, dir: string): string[] => {
  const root = datasetRoot(dir, "data.root");
  return task.folders === undefined ? readClasses(dir, root) : readClasses(splitFolder(root, task.folders.train, "data.folders.train"), root);
};

/** The images of one split folder, labelled by the train folder's classes; a class train lacks, or no image at all, is an error naming the folder. */
const splitFiles = (root: DatasetRoot, dir: string, classes: readonly string[], task: ImageDecoding, field: string): { file: string; label: number }[] => {
  const present = subFolders(root, dir, field);
  const unknown = present.find((name) => !classes.includes(name));
  if (unknown !== undefined) throw new ImageDataError(`${field}: ${join(dir, unknown)} is a class the train folder does not have (${classes.join(", ")})`);
  const files = present.flatMap((name) => imagesIn(root, join(dir, name), task, field).map((file) => ({ file, label: classes.indexOf(name) })));
  if (files.length === 0) throw new ImageDataError(`${field}: ${dir} holds no images${field.endsWith(".val") ? '; set "val" to null for none' : ""}`);
  return files;
};

/** Explicit train / val / test folders, each decoded (one cache for all). */
const loadSplitFolders = async (
  task: ImageFolder,
  folders: NonNullable<ImageFolder["folders"]>,
  root: DatasetRoot,
  c: VitConfig,
  pretrained?: PretrainedCfg,
  progress?: Counter,
): Promise<LoadedImages> => {
  const classes = task.classes ?? folderClasses(task, root.dir);
  const split = (name: string, field: string) => splitFiles(root, splitFolder(root, name, field), classes, task, field);
  const [train, val, test] = [
    split(folders.train, "data.folders.train"),
    folders.val === null ? [] : split(folders.val, "data.folders.val"),
    split(folders.test, "data.folders.test").slice(0, task.testLimit ?? undefined),
  ];
  const all = [...train, ...val, ...test];
  const { slots, ...how } = await decodeImages(
    root.dir,
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
  return checkSplits(
    { train: dataset(train), val: dataset(val), test: dataset(test), classes: classes.length, ...how },
    classes,
    join(root.dir, folders.train),
  );
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
  const dir = resolve(baseDir, task.root);
  const root = datasetRoot(dir, "data.root");
  if (task.folders !== undefined) return loadSplitFolders(task, task.folders, root, c, pretrained, progress);
  const classes = task.classes ?? readClasses(dir, root);
  const files = classes.flatMap((name, label) => imagesIn(root, join(dir, name), task, "data.root").map((file) => ({ file, label })));
  const { slots, ...how } = await decodeImages(
    dir,
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
    throw new ImageDataError(`data.split asks for ${wanted} training and validation images; ${dir} holds ${usable.length} usable ones`);
  if (rest.length <= split.val)
    throw new ImageDataError(
      `data.split takes all ${usable.length} usable images of ${dir} for training (${train.length}) and validation (${split.val}), leaving none to test; ask for fewer`,
    );
  const val = rest.slice(0, split.val);
  const test = rest.slice(split.val, task.testLimit === null ? undefined : split.val + task.testLimit);
  return checkSplits(
    { train: dataset(train), val: dataset(val), test: dataset(test), classes: classes.length, ...how },
    classes,
    `the split of ${dir} (seed ${task.seed})`,
  );
};

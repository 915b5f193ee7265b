import { readFileSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import type { ImageList } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import { absentLabels, checkSplits } from "./checkSplits.js";
import { cachedDataset, decodeImages, ImageDataError } from "./imageDecoding.js";
import type { LoadedImages } from "./imageFolder.js";
import { datasetRoot, type DatasetRoot } from "./insideRoot.js";

/** The list files a protocol reads: VTAB-1k's tune (train800 / val200 / test) or final (train800val200 / none / test). */
const lists = (task: ImageList): { readonly train: string; readonly val: string | null; readonly test: string } => ({
  train: task.train ?? (task.protocol === "tune" ? "train800.txt" : "train800val200.txt"),
  val: task.val !== undefined ? task.val : task.protocol === "tune" ? "val200.txt" : null,
  test: task.test ?? "test.txt",
});

/** One line of a list: the image (absolute), its label, and where it was written (`list:line`). */
interface Entry {
  readonly file: string;
  readonly label: number;
  readonly at: string;
}

/**
 * One list file's `relative/path label` lines. A missing file, a bad line, or a path that leaves
 * the root (`..`, absolute, a symbolic link out) is an error naming the list and line; so is an
 * image that cannot be read, unless onBadImage is "skip" (then the decoder leaves it out).
 */
const readList = (root: DatasetRoot, name: string, task: ImageList): { readonly path: string; readonly entries: Entry[] } => {
  const dir = root.dir;
  const path = join(dir, name);
  const where = root.whereabouts(path);
  if (where.kind === "outside") throw new ImageDataError(`data: list file ${path} leads outside ${dir}; the lists must lie inside the root`);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ImageDataError(`data: list file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  const entries = text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    const at = `${path}:${i + 1}`;
    const m = /^(.+?)\s+(\d+)\s*$/.exec(line.trim());
    if (!m) throw new ImageDataError(`data: ${at}: expected "relative/path label" (a non-negative integer label), got ${JSON.stringify(line.trim())}`);
    const [relative, label] = [m[1]!, Number(m[2])];
    if (!Number.isSafeInteger(label)) throw new ImageDataError(`data: ${at}: label ${m[2]} is too large to be a class`);
    if (relative.includes("\0")) throw new ImageDataError(`data: ${at}: the path holds a NUL character`);
    if (isAbsolute(relative)) throw new ImageDataError(`data: ${at}: ${relative} is an absolute path; list paths are relative to ${dir}`);
    const file = join(dir, relative);
    const where = root.whereabouts(file);
    if (where.kind === "outside")
      throw new ImageDataError(
        `data: ${at}: ${relative} leads outside ${dir}${where.target === file ? "" : ` (to ${where.target})`}; every image must lie inside the root`,
      );
    if (where.kind === "unreadable" && task.onBadImage === "error")
      throw new ImageDataError(`data: ${at}: ${relative}: ${where.why}; fix or remove the line, or set data.onBadImage to "skip"`);
    return [{ file, label, at }];
  });
  return { path, entries };
};

/**
 * The class names of an image list: "0" … "k−1", k one more than the training list's largest
 * label, every one of them with training images (VTAB-1k's lists number their classes densely).
 */
export const listClasses = (task: ImageList, dir: string): string[] => {
  const train = readList(datasetRoot(dir, "data.root"), lists(task).train, task);
  if (train.entries.length === 0) throw new ImageDataError(`data: ${train.path} lists no images; a run needs training images`);
  const k = train.entries.reduce((m, e) => Math.max(m, e.label), -1) + 1;
  const absent = absentLabels(
    train.entries.map((e) => e.label),
    k,
  ).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  if (absent.length > 0)
    throw new ImageDataError(
      `data: ${train.path} has no images of label ${absent.slice(0, 10).join(", ")}${absent.length > 10 ? ", …" : ""} (its largest label is ${k - 1}); a list's classes are 0 … k−1, each with training images`,
    );
  if (k < 2) throw new ImageDataError(`data: ${train.path} names 1 class; expected at least two`);
  return Array.from({ length: k }, (_, i) => String(i));
};

/** An image list as train, val and test sets: each list's images, decoded once however many lists name them. */
export const loadImageList = async (task: ImageList, baseDir: string, c: VitConfig, pretrained?: PretrainedCfg, progress?: Counter): Promise<LoadedImages> => {
  const dir = resolve(baseDir, task.root);
  const root = datasetRoot(dir, "data.root");
  const classes = task.classes ?? listClasses(task, dir);
  const names = lists(task);
  const train = readList(root, names.train, task);
  const val = names.val === null ? null : readList(root, names.val, task);
  const test = readList(root, names.test, task);
  const testEntries = test.entries.slice(0, task.testLimit ?? undefined);
  for (const list of [train, val, test]) {
    if (list !== null && list.entries.length === 0)
      throw new ImageDataError(
        `data: ${list.path} lists no images${list === val ? '; set data.val to null for a run without validation (the "final" protocol has none)' : ""}`,
      );
  }
  for (const e of train.entries) {
    if (e.label >= classes.length) throw new ImageDataError(`data: ${e.at}: label ${e.label} is out of range (data.classes names ${classes.length})`);
  }
  for (const e of [...(val?.entries ?? []), ...testEntries]) {
    if (e.label >= classes.length)
      throw new ImageDataError(
        `data: ${e.at}: label ${e.label} is not a class of the training list (0 … ${classes.length - 1}); a validation or test image must be of a class trained on`,
      );
  }
  const files = [...new Set([...train.entries, ...(val?.entries ?? []), ...testEntries].map((e) => e.file))];
  const { slots, ...how } = await decodeImages(dir, files, task, c, progress);
  const slotOf = new Map(files.map((f, slot) => [f, slot] as const));
  const dataset = (list: readonly Entry[]) =>
    cachedDataset(
      slots,
      list.flatMap((e) => (slots.bad.has(slotOf.get(e.file)!) ? [] : [{ slot: slotOf.get(e.file)!, label: e.label }])),
      task,
      c,
      pretrained,
    );
  return checkSplits(
    { train: dataset(train.entries), val: dataset(val?.entries ?? []), test: dataset(testEntries), classes: classes.length, ...how },
    classes,
    train.path,
  );
};

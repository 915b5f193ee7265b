import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ImageList } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import { cachedDataset, decodeImages, ImageDataError } from "./imageDecoding.js";
import type { LoadedImages } from "./imageFolder.js";

/** The list files a protocol reads: VTAB-1k's tune (train800 / val200 / test) or final (train800val200 / none / test). */
const lists = (task: ImageList): { readonly train: string; readonly val: string | null; readonly test: string } => ({
  train: task.train ?? (task.protocol === "tune" ? "train800.txt" : "train800val200.txt"),
  val: task.val !== undefined ? task.val : task.protocol === "tune" ? "val200.txt" : null,
  test: task.test ?? "test.txt",
});

/** One list file's `relative/path label` lines; a missing file or a bad line is an error naming it. */
const readList = (root: string, name: string): { readonly file: string; readonly label: number }[] => {
  const path = join(root, name);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ImageDataError(`data: list file ${path}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  return text.split("\n").flatMap((line, i) => {
    if (line.trim() === "") return [];
    const m = /^(.+?)\s+(\d+)\s*$/.exec(line.trim());
    if (!m)
      throw new ImageDataError(`data: ${path}:${i + 1}: expected "relative/path label" (a non-negative integer label), got ${JSON.stringify(line.trim())}`);
    return [{ file: join(root, m[1]!), label: Number(m[2]) }];
  });
};

/** The class names of an image list: "0" … "k−1", k one more than the largest label in its lists. */
export const listClasses = (task: ImageList, root: string): string[] => {
  const { train, val, test } = lists(task);
  const labels = [train, ...(val === null ? [] : [val]), test].flatMap((name) => readList(root, name).map((e) => e.label));
  const k = Math.max(...labels) + 1;
  if (!(k >= 2)) throw new ImageDataError(`data: the lists of ${root} name ${Number.isFinite(k) ? k : 0} class(es); expected at least two`);
  return Array.from({ length: k }, (_, i) => String(i));
};

/** An image list as train, val and test sets: each list's images, decoded once however many lists name them. */
export const loadImageList = async (task: ImageList, baseDir: string, c: VitConfig, pretrained?: PretrainedCfg, progress?: Counter): Promise<LoadedImages> => {
  const root = resolve(baseDir, task.root);
  const classes = task.classes ?? listClasses(task, root);
  const { train, val, test } = lists(task);
  const [trainList, valList, testList] = [
    readList(root, train),
    val === null ? [] : readList(root, val),
    readList(root, test).slice(0, task.testLimit ?? undefined),
  ];
  for (const [name, list] of [
    [train, trainList],
    [val, valList],
    [test, testList],
  ] as const) {
    const bad = list.find((e) => e.label >= classes.length);
    if (bad) throw new ImageDataError(`data: ${join(root, name!)}: label ${bad.label} of ${bad.file} is out of range (${classes.length} classes)`);
  }
  const files = [...new Set([...trainList, ...valList, ...testList].map((e) => e.file))];
  const { slots, ...how } = await decodeImages(root, files, task, c, progress);
  const slotOf = new Map(files.map((f, slot) => [f, slot] as const));
  const dataset = (list: readonly { file: string; label: number }[]) =>
    cachedDataset(
      slots,
      list.flatMap((e) => (slots.bad.has(slotOf.get(e.file)!) ? [] : [{ slot: slotOf.get(e.file)!, label: e.label }])),
      task,
      c,
      pretrained,
    );
  return { train: dataset(trainList), val: dataset(valList), test: dataset(testList), classes: classes.length, ...how };
};

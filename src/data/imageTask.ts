import { resolve } from "node:path";
import type { Task } from "../dsl/experiment.js";
import type { PretrainedCfg } from "../models/timmConfig.js";
import type { VitConfig } from "../models/vitConfig.js";
import type { Counter } from "../util/counter.js";
import { folderClasses, loadImageFolder, type LoadedImages } from "./imageFolder.js";
import { listClasses, loadImageList } from "./imageList.js";

export type ImageTask = Extract<Task, { readonly _tag: "ImageFolder" | "ImageList" }>;

/** A task with an image source's classes read from its files (in-memory tasks as they are). */
export const resolveTask = (task: Task, baseDir: string): Task => {
  if ((task._tag !== "ImageFolder" && task._tag !== "ImageList") || task.classes !== undefined) return task;
  const root = resolve(baseDir, task.root);
  return { ...task, classes: task._tag === "ImageFolder" ? folderClasses(task, root) : listClasses(task, root) };
};

/** An image source's train, val and test sets at the model's size. */
export const loadImageTask = (task: ImageTask, baseDir: string, c: VitConfig, pretrained?: PretrainedCfg, progress?: Counter): Promise<LoadedImages> =>
  task._tag === "ImageFolder" ? loadImageFolder(task, baseDir, c, pretrained, progress) : loadImageList(task, baseDir, c, pretrained, progress);

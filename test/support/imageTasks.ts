import { isLeft } from "fp-ts/lib/Either.js";
import { TaskCodec, type TaskInput } from "../../src/dsl/codecs.js";
import type { ImageFolder, ImageList } from "../../src/dsl/experiment.js";
import { decodeWith } from "../../src/util/codecKit.js";

/** A task as an experiment file gives it, decoded with the codec's defaults (as a run reads it). */
const decoded = (input: TaskInput) => {
  const r = decodeWith(TaskCodec, input);
  if (isLeft(r)) throw new Error(r.left.join("\n"));
  return r.right;
};

/** An image folder task on `root`: fields not given take the experiment file's defaults. */
export const imageFolderTask = (root: string, over: Omit<Partial<Extract<TaskInput, { _tag: "ImageFolder" }>>, "_tag"> = {}): ImageFolder =>
  decoded({ _tag: "ImageFolder", root, ...over }) as ImageFolder;

/** An image list task on `root`: fields not given take the experiment file's defaults. */
export const imageListTask = (root: string, over: Omit<Partial<Extract<TaskInput, { _tag: "ImageList" }>>, "_tag"> = {}): ImageList =>
  decoded({ _tag: "ImageList", root, ...over }) as ImageList;

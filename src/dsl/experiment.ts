import type { Method } from "./method.js";
import { miniVtabTasks, type MiniVtabName } from "./miniVtab.js";

/** How a class-subset task is split, VTAB-1k style or k-shot per class. */
export type Split =
  { readonly _tag: "Vtab1k"; readonly train: number; readonly val: number } | { readonly _tag: "FewShot"; readonly shots: number; readonly val: number };

/**
 * How 28×28 grey images meet a backbone of another size or channel count: "exact" (the
 * default) refuses, "pad" centre-pads (or centre-crops) them to the model's size and repeats the
 * grey value in every channel.
 */
export type Fit = "exact" | "pad";

/**
 * A classification task. `Mnist`: the chosen digits, labels re-indexed 0..k-1 in `digits` order.
 * `MiniVtab`: a task of the mini-VTAB benchmark (src/dsl/miniVtab.ts), `testSize` test examples.
 */
export type Task = { readonly fit?: Fit } & (
  | {
      readonly _tag: "Mnist";
      readonly digits: readonly number[];
      readonly split: Split;
      /** Seed of the train/val sampler: fixed across runs, like VTAB-1k's published splits. */
      readonly seed: number;
      /** Cap on test-split size (null: the whole standard test split of those digits). */
      readonly testLimit: number | null;
    }
  | { readonly _tag: "MiniVtab"; readonly name: MiniVtabName; readonly split: Split; readonly seed: number; readonly testSize: number }
  | ImageFolder
  | ImageList
);

/**
 * How image files become model inputs: decoded to the model's channels (grey and alpha to RGB,
 * or colour to grey) and resized to its size — "squash" to H×W with bicubic, as the papers'
 * VTAB-1k code does, or "crop", timm's eval transform (the shorter side to size/cropPct, then a
 * centre crop) — then normalised with `mean` and `std` per channel (absent: the checkpoint's
 * pretrained_cfg, else 0.5 and 0.5).
 */
export interface ImageDecoding {
  readonly resize: "squash" | "crop";
  readonly cropPct: number;
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
  /** "error": an unreadable image is bad input naming the file; "skip": it is left out and listed in result.json. */
  readonly onBadImage: "error" | "skip";
}

/**
 * Images named by list files of `relative/path label` lines under `root` — the VTAB-1k layout of
 * the papers' code (`<task>/train800.txt`, `val200.txt`, `train800val200.txt`, `test.txt`). The
 * protocol: tune on train800 with val200 ("tune"), then train on train800val200 and report test
 * ("final", no val). `train`, `val`, `test` name other list files.
 */
export interface ImageList extends ImageDecoding {
  readonly _tag: "ImageList";
  readonly root: string;
  readonly protocol: "tune" | "final";
  readonly train?: string;
  readonly val?: string | null;
  readonly test?: string;
  /** Class names in label order; filled as "0" … "k−1" from the lists' largest label when the experiment is read. */
  readonly classes?: readonly string[];
  readonly testLimit: number | null;
}

/**
 * A folder of images in class sub-folders (the torchvision / timm convention): classes are the
 * sub-folders sorted by name, label i the i-th; JPEG, PNG and WebP files. `split` draws train and
 * val from all images with the seed; the rest is the test set (at most `testLimit`).
 */
export interface ImageFolder extends ImageDecoding {
  readonly _tag: "ImageFolder";
  /** The folder, relative to the experiment file. */
  readonly root: string;
  /** The class sub-folders in label order; filled from the folder when the experiment is read. */
  readonly classes?: readonly string[];
  readonly split: Split;
  readonly seed: number;
  readonly testLimit: number | null;
  /**
   * Explicit splits instead of `split`: sub-folders of `root` (e.g. "train", "val", "test"), each
   * with the class sub-folders; classes are train's, and val and test may hold only those.
   */
  readonly folders?: { readonly train: string; readonly val: string | null; readonly test: string };
}

export interface AdamW {
  readonly _tag: "AdamW";
  readonly lr: number;
  readonly weightDecay: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
}

/**
 * What the learning rate does after the warm-up: cosine decay to `minLr` (every paper's
 * protocol), constant, or multiplied by `factor` every `everyEpochs` epochs (never below `minLr`).
 */
export type LrShape =
  { readonly _tag: "Cosine" } | { readonly _tag: "Constant" } | { readonly _tag: "Step"; readonly everyEpochs: number; readonly factor: number };

/** Linear warm-up over `warmupEpochs`, then `shape`, stepped per batch. */
export interface Schedule {
  readonly epochs: number;
  readonly batchSize: number;
  readonly warmupEpochs: number;
  readonly minLr: number;
  readonly shape: LrShape;
  /** Images per forward/backward pass: each batch as micro-batches whose gradients are accumulated (absent: the whole batch at once). */
  readonly microBatch?: number;
  /** Images per forward pass when evaluating (accuracy, representation metrics); absent: 256. */
  readonly evalBatch?: number;
}

export interface Backbone {
  /**
   * A checkpoint — a timm hub folder (config.json + model.safetensors), a bare timm state dict in
   * safetensors, Google's .npz, or our own safetensors — or "default" for the embedded demo backbone.
   */
  readonly weights: string;
  /** The timm architecture of a checkpoint that does not say it (a bare state dict, an .npz); inferred from the shapes when absent. */
  readonly arch?: string;
  /** Fine-tune at this image size: the position embedding is resampled to it (bicubic, as timm); absent: the checkpoint's. */
  readonly image?: number;
  /** "reset": replace the head by a zero head sized to the task's classes; "keep": use it as is. */
  readonly head: "reset" | "keep";
}

/**
 * Representation metrics on held-out data (the first `examples` test images): linear CKA "Sim"
 * between pretrained and tuned head-input features, average pairwise token cosine per block,
 * attention entropy per block. Always after training (0 examples: never); `everyEpoch` also after each epoch.
 */
export interface Metrics {
  readonly examples: number;
  readonly everyEpoch: boolean;
}

export const defaultMetrics: Metrics = { examples: 1000, everyEpoch: false };

/**
 * Train-time augmentation for FGVC-style tasks (off when absent): each training image a random
 * resized crop (timm's RandomResizedCrop: area share in `scale`, aspect in `ratio`, bilinear back
 * to the model's size), then a horizontal flip with probability ½ when `flip`; seeded per
 * (seed, epoch, batch). Evaluation images are never augmented.
 */
export interface Augment {
  readonly flip: boolean;
  readonly crop: { readonly scale: readonly [number, number]; readonly ratio: readonly [number, number] } | null;
}

/** Everything that determines a run: rerunning an Experiment reproduces its result. */
export interface Experiment {
  readonly name: string;
  readonly backbone: Backbone;
  readonly data: Task;
  readonly method: Method;
  readonly optimizer: AdamW;
  readonly schedule: Schedule;
  /** ε of the cross-entropy's label smoothing (targets (1 − ε)·onehot + ε/k). */
  readonly labelSmoothing: number;
  /** Stochastic depth's rate (timm's drop_path_rate): the last block's drop probability, linear from 0 over depth; 0 is off. */
  readonly dropPath: number;
  readonly augment?: Augment;
  readonly metrics: Metrics;
  readonly seed: number;
}

export const taskClasses = (task: Task): number => {
  if (task._tag === "Mnist") return task.digits.length;
  if (task._tag === "MiniVtab") return miniVtabTasks[task.name].classes;
  if (task.classes === undefined) throw new Error(`data.classes of ${task.root} were not read from its files`);
  return task.classes.length;
};

/** A short name for tables and logs. */
export const taskName = (task: Task): string =>
  task._tag === "Mnist"
    ? `mnist-${task.digits.join("")}`
    : task._tag === "MiniVtab"
      ? task.name
      : `${task._tag === "ImageFolder" ? "folder" : "list"}-${
          task.root
            .split(/[\\/]/)
            .filter((p) => p !== "")
            .at(-1) ?? "root"
        }`;

import { isRight } from "fp-ts/lib/Either.js";
import { decodeExperiment } from "../dsl/codecs.js";
import type { Experiment, LrShape, Task } from "../dsl/experiment.js";
import type { Row } from "../sweep/results.js";
import { variantOf } from "./summary.js";

/** One line of the report's setup: a value shared by every job, or each value and whom it applies to. */
export interface SetupLine {
  readonly label: string;
  readonly values: readonly { readonly text: string; readonly where: string | null }[];
}

const notRecorded = "not recorded (rows written before peft recorded the experiment in them)";

const size = (n: number) => `${n}×${n}`;
const count = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;

const backbone = (e: Experiment, trained: Readonly<Record<string, unknown>> | undefined): string => {
  const b = e.backbone;
  const weights = b.weights === "default" ? "the embedded demo ViT (weights default)" : `${b.weights}${b.arch === undefined ? "" : ` (${b.arch})`}`;
  const s = trained as { image?: number; channels?: number; patch?: number; width?: number; depth?: number; heads?: number } | undefined;
  const form =
    s?.image === undefined
      ? `shape not recorded${b.image === undefined ? "" : `, fine-tuned at ${size(b.image)}`}`
      : `${size(s.image)} input, ${count(s.channels ?? 0, "channel")}, patch ${s.patch}, width ${s.width}, depth ${s.depth}, ${count(s.heads ?? 0, "head")}`;
  return `${weights}: ${form}; head ${b.head === "reset" ? "reset to zeros for each task" : "kept"}`;
};

const data = (t: Task): string => {
  const train =
    t._tag === "ImageList"
      ? `the ${t.protocol === "tune" ? "train and val lists" : "train+val list"}`
      : t._tag === "ImageFolder" && t.folders !== undefined
        ? "the train and val folders"
        : t.split._tag === "Vtab1k"
          ? `${t.split.train} train and ${t.split.val} val images`
          : `${t.split.shots} train images per class and ${t.split.val} val images`;
  const test = t._tag === "MiniVtab" ? `${t.testSize} test images` : t.testLimit === null ? "the whole test split" : `at most ${t.testLimit} test images`;
  const input =
    t._tag === "ImageFolder" || t._tag === "ImageList"
      ? `images ${t.resize === "crop" ? `resized and centre-cropped (crop ${t.cropPct})` : "squashed"} to the backbone's size, normalised with ${
          t.mean === undefined ? "the checkpoint's mean and std" : `mean ${t.mean.join("/")}, std ${t.std?.join("/")}`
        }`
      : t.fit === "pad"
        ? "28×28 grey images padded to the backbone's size"
        : "28×28 grey images";
  return `${train}, ${test}; ${input}`;
};

const lrShape = (s: LrShape, minLr: number): string =>
  s._tag === "Cosine" ? `cosine decay to ${minLr}` : s._tag === "Constant" ? "constant" : `×${s.factor} every ${s.everyEpochs} epochs (not below ${minLr})`;

/** What each line states about one job's experiment. */
const lines = (e: Experiment, trained: Readonly<Record<string, unknown>> | undefined): readonly [string, string][] => {
  const o = e.optimizer;
  const s = e.schedule;
  const a = e.augment;
  return [
    ["Backbone", backbone(e, trained)],
    ["Data", data(e.data)],
    ["Optimizer", `AdamW, lr ${o.lr}, weight decay ${o.weightDecay}, β₁ ${o.beta1}, β₂ ${o.beta2}, ε ${o.eps}`],
    [
      "Schedule",
      `${count(s.epochs, "epoch")} of batches of ${s.batchSize}${s.microBatch === undefined ? "" : ` (micro-batches of ${s.microBatch})`}, warm-up ${count(s.warmupEpochs, "epoch")}, then ${lrShape(s.shape, s.minLr)}`,
    ],
    [
      "Regularisation",
      `label smoothing ${e.labelSmoothing}, drop path ${e.dropPath}, ${
        a === undefined
          ? "no augmentation"
          : `augmentation: ${[...(a.flip ? ["horizontal flip"] : []), ...(a.crop === null ? [] : [`random resized crop (scale ${a.crop.scale.join("–")}, ratio ${a.crop.ratio.join("–")})`])].join(", ") || "none"}`
      }`,
    ],
  ];
};

/**
 * The backbone and the recipe of the finished jobs, from the experiment each row records. A line
 * every job shares is stated once; otherwise each value is stated with the methods it applies to
 * (full fine-tuning's own lr), or the tasks (a task's own split), or its number of jobs.
 */
export const setupOf = (ok: readonly Row[]): SetupLine[] => {
  const stated = ok.map((r) => {
    const e = decodeExperiment(r.experiment);
    return { variant: variantOf(r), task: r.task, lines: new Map(isRight(e) ? lines(e.right, r.backbone) : []) };
  });
  const labels = ["Backbone", "Data", "Optimizer", "Schedule", "Regularisation"];
  if (stated.length === 0) return [];
  return labels.map((label) => {
    const of = stated.map((s) => ({ ...s, text: s.lines.get(label) ?? notRecorded }));
    const texts = [...new Set(of.map((s) => s.text))];
    if (texts.length === 1) return { label, values: [{ text: texts[0]!, where: null }] };
    // Say whom each value is for: by method where every method has one value, else by task, else by count.
    const oneEach = (key: "variant" | "task") => new Set(of.map((s) => `${s[key]}\u0000${s.text}`)).size === new Set(of.map((s) => s[key])).size;
    const by = oneEach("variant") ? "variant" : oneEach("task") ? "task" : null;
    return {
      label,
      values: texts.map((text) => {
        const mine = of.filter((s) => s.text === text);
        return { text, where: by === null ? `${mine.length} job(s)` : [...new Set(mine.map((s) => s[by]))].join(", ") };
      }),
    };
  });
};

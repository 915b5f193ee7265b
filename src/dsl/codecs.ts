import * as t from "io-ts";
import type { Selector } from "./selector.js";
import { roles } from "../models/vitParams.js";
import type { PermutationInit, WeightTransform } from "./transform.js";
import { primitives } from "../primitives/registry.js";
import type { Method, Target } from "./method.js";
import type { LossTerm } from "./loss.js";
import { lossTermKinds } from "../losses/registry.js";
import { dafCandidates, reconfigure, type Category, type Rule } from "./rule.js";
import { miniVtabNames, type MiniVtabName } from "./miniVtab.js";
import {
  defaultMetrics,
  type AdamW,
  type Augment,
  type Backbone,
  type Experiment,
  type LrShape,
  type Metrics,
  type Schedule,
  type Split,
  type Task,
} from "./experiment.js";
import {
  decodeWith,
  finite,
  type InputOf,
  intAtLeast,
  intIn,
  integer,
  literalOf,
  nonNegative,
  nullable,
  numberIn,
  optional,
  positive,
  struct,
  taggedUnion,
  unitInterval,
  withDefault,
} from "../util/codecKit.js";

const tag = <L extends string>(l: L) => t.literal(l);

/** Stated ceilings on what a file may ask for (checked before anything is allocated). */
const maxTargets = 4096;
const maxExamples = 10_000_000;

export const SelectorCodec: t.Type<Selector> = taggedUnion<Selector>("selector", () => ({
  All: struct("All", { _tag: tag("All") }),
  Glob: struct("Glob", { _tag: tag("Glob"), pattern: t.string }),
  Regex: struct("Regex", { _tag: tag("Regex"), pattern: t.string }),
  Role: struct("Role", { _tag: tag("Role"), role: literalOf("role", roles) }),
  Blocks: struct("Blocks", { _tag: tag("Blocks"), from: integer, to: withDefault(nullable(integer), null) }),
  And: struct("And", { _tag: tag("And"), of: t.array(SelectorCodec) }),
  Or: struct("Or", { _tag: tag("Or"), of: t.array(SelectorCodec) }),
  Not: struct("Not", { _tag: tag("Not"), of: SelectorCodec }),
  Expect: struct("Expect", { _tag: tag("Expect"), count: intAtLeast(0), of: SelectorCodec }),
}));

const PermutationCodec: t.Type<PermutationInit> = taggedUnion<PermutationInit>("permutation", () => ({
  Identity: struct("Identity", { _tag: tag("Identity") }),
  Random: struct("Random", { _tag: tag("Random"), seed: integer }),
  Tour: struct("Tour", { _tag: tag("Tour"), seed: withDefault(integer, 0) }),
}));

/** The fields of ImageDecoding, shared by the image data sources. */
const decodingFields = {
  resize: withDefault(literalOf("resize", ["squash", "crop"]), "squash"),
  cropPct: withDefault(
    numberIn("number in (0, 1]", (n) => n > 0 && n <= 1),
    0.875,
  ),
  mean: optional(t.array(finite)),
  std: optional(t.array(positive)),
  onBadImage: withDefault(literalOf("onBadImage", ["error", "skip"]), "error"),
};

/** The primitives' own codecs (in the registry's order), then the combinators. */
export const TransformCodec: t.Type<WeightTransform> = taggedUnion<WeightTransform>("transform", () => ({
  ...Object.fromEntries(Object.entries(primitives).map(([tagName, p]) => [tagName, p.codec])),
  Frozen: struct("Frozen", { _tag: tag("Frozen") }),
  Sum: struct("Sum", { _tag: tag("Sum"), terms: t.array(TransformCodec) }),
  Permuted: struct("Permuted", { _tag: tag("Permuted"), rows: PermutationCodec, cols: PermutationCodec, inner: TransformCodec }),
  Quantized: struct("Quantized", { _tag: tag("Quantized"), bits: numberIn("bits (1)", (b) => b === 1) as unknown as t.Type<1>, inner: TransformCodec }),
}));

export const TargetCodec: t.Type<Target> = struct("target", { select: SelectorCodec, transform: TransformCodec });

/** The loss terms' own codecs, in the registry's order. */
export const LossTermCodec: t.Type<LossTerm> = taggedUnion<LossTerm>("loss term", () =>
  Object.fromEntries(Object.entries(lossTermKinds).map(([tagName, k]) => [tagName, k.codec])),
);

const dafDefaults = reconfigure();
const perCategory = <A>(codec: t.Type<A>, fallback: Readonly<Record<Category, A>>) =>
  struct("per category", {
    matrices: withDefault(codec, fallback.matrices),
    vectors: withDefault(codec, fallback.vectors),
    special: withDefault(codec, fallback.special),
  });
const fraction = numberIn("number in [0, 1]", (n) => n >= 0 && n <= 1);

export const RuleCodec: t.Type<Rule> = struct("rule", {
  when: taggedUnion<Rule["when"]>("when", () => ({
    Once: struct("Once", { _tag: tag("Once") }),
    Every: struct("Every", { _tag: tag("Every"), n: intAtLeast(1), unit: literalOf("unit", ["epochs", "steps"]) }),
  })),
  action: taggedUnion<Rule["action"]>("action", () => ({
    GradientEstimate: struct("GradientEstimate", { _tag: tag("GradientEstimate"), batches: withDefault(intAtLeast(1), 16), seed: withDefault(integer, 0) }),
    FeatureStatistics: struct("FeatureStatistics", { _tag: tag("FeatureStatistics") }),
    Reconfigure: struct("Reconfigure", {
      _tag: tag("Reconfigure"),
      budget: withDefault(
        numberIn("number in (0, 1]", (n) => n > 0 && n <= 1),
        dafDefaults.budget,
      ),
      ratios: withDefault(perCategory(fraction, dafDefaults.ratios), dafDefaults.ratios),
      candidates: withDefault(perCategory(SelectorCodec, dafCandidates), dafCandidates),
      module: withDefault(TransformCodec, dafDefaults.module),
      batches: withDefault(intAtLeast(1), dafDefaults.batches),
      analysis: withDefault(literalOf("analysis", ["context", "pristine"]), dafDefaults.analysis),
      ema: withDefault(nullable(unitInterval), dafDefaults.ema),
      retain: withDefault(literalOf("retain", ["refocus", "accumulate"]), dafDefaults.retain),
      seed: withDefault(integer, dafDefaults.seed),
    }),
  })),
});

const methodFields = struct("method", {
  targets: t.refinement(t.array(TargetCodec), (ts) => ts.length <= maxTargets, `at most ${maxTargets} targets`),
  losses: withDefault(t.array(LossTermCodec), []),
  rules: withDefault(t.array(RuleCodec), []),
});
/** A method as a user writes it: `losses` and `rules` may be left out. */
export type MethodInput = InputOf<typeof methodFields>;
export const MethodCodec = methodFields as unknown as t.Type<Method, MethodInput>;

const digit = numberDigit();
function numberDigit() {
  return new t.Type<number>(
    "digit 0-9",
    (u): u is number => typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 9,
    (u, c) => (typeof u === "number" && Number.isInteger(u) && u >= 0 && u <= 9 ? t.success(u) : t.failure(u, c)),
    t.identity,
  );
}

const splits = {
  Vtab1k: struct("Vtab1k", { _tag: tag("Vtab1k"), train: withDefault(intIn(1, maxExamples), 800), val: withDefault(intIn(0, maxExamples), 200) }),
  FewShot: struct("FewShot", { _tag: tag("FewShot"), shots: intIn(1, maxExamples), val: withDefault(intIn(0, maxExamples), 200) }),
};
export type SplitInput = InputOf<(typeof splits)[keyof typeof splits]>;
export const SplitCodec = taggedUnion<Split, SplitInput>("split", () => splits);

const tasks = {
  Mnist: struct("Mnist", {
    _tag: tag("Mnist"),
    digits: t.refinement(t.array(digit), (ds) => ds.length >= 2 && new Set(ds).size === ds.length, "at least two distinct digits"),
    split: withDefault(SplitCodec, { _tag: "Vtab1k", train: 800, val: 200 }),
    seed: withDefault(integer, 0),
    testLimit: withDefault(nullable(intAtLeast(1)), null),
    fit: optional(literalOf("fit", ["exact", "pad"])),
  }),
  MiniVtab: struct("MiniVtab", {
    _tag: tag("MiniVtab"),
    name: literalOf("name", miniVtabNames as [MiniVtabName, ...MiniVtabName[]]),
    split: withDefault(SplitCodec, { _tag: "Vtab1k", train: 800, val: 200 }),
    seed: withDefault(integer, 0),
    testSize: withDefault(intIn(1, 100_000), 2000),
    fit: optional(literalOf("fit", ["exact", "pad"])),
  }),
  ImageFolder: struct("ImageFolder", {
    _tag: tag("ImageFolder"),
    root: t.string,
    classes: optional(t.array(t.string)),
    split: withDefault(SplitCodec, { _tag: "Vtab1k", train: 800, val: 200 }),
    seed: withDefault(integer, 0),
    testLimit: withDefault(nullable(intAtLeast(1)), null),
    folders: optional(struct("folders", { train: t.string, val: withDefault(nullable(t.string), null), test: t.string })),
    ...decodingFields,
  }),
  ImageList: struct("ImageList", {
    _tag: tag("ImageList"),
    root: t.string,
    protocol: withDefault(literalOf("protocol", ["tune", "final"]), "tune"),
    train: optional(t.string),
    val: optional(nullable(t.string)),
    test: optional(t.string),
    classes: optional(t.array(t.string)),
    testLimit: withDefault(nullable(intAtLeast(1)), null),
    ...decodingFields,
  }),
};
export type TaskInput = InputOf<(typeof tasks)[keyof typeof tasks]>;
export const TaskCodec = taggedUnion<Task, TaskInput>("task", () => tasks);

const adamW = struct("optimizer", {
  _tag: tag("AdamW"),
  lr: positive,
  weightDecay: withDefault(nonNegative, 1e-4),
  beta1: withDefault(unitInterval, 0.9),
  beta2: withDefault(unitInterval, 0.999),
  eps: withDefault(positive, 1e-8),
});
export type AdamWInput = InputOf<typeof adamW>;
export const AdamWCodec = adamW as unknown as t.Type<AdamW, AdamWInput>;

const LrShapeCodec: t.Type<LrShape> = taggedUnion<LrShape>("learning-rate shape", () => ({
  Cosine: struct("Cosine", { _tag: tag("Cosine") }),
  Constant: struct("Constant", { _tag: tag("Constant") }),
  Step: struct("Step", { _tag: tag("Step"), everyEpochs: positive, factor: numberIn("number in (0, 1]", (n) => n > 0 && n <= 1) }),
}));

const schedule = struct("schedule", {
  epochs: intIn(1, 1_000_000),
  batchSize: intIn(1, maxExamples),
  warmupEpochs: withDefault(nonNegative, 0),
  minLr: withDefault(nonNegative, 0),
  shape: withDefault(LrShapeCodec, { _tag: "Cosine" }),
  microBatch: optional(intAtLeast(1)),
  evalBatch: optional(intAtLeast(1)),
});
export type ScheduleInput = InputOf<typeof schedule>;
export const ScheduleCodec = schedule as unknown as t.Type<Schedule, ScheduleInput>;

const backbone = struct("backbone", {
  weights: withDefault(t.string, "default"),
  arch: optional(t.string),
  image: optional(intAtLeast(1)),
  head: withDefault(literalOf("head", ["reset", "keep"]), "reset"),
});
export type BackboneInput = InputOf<typeof backbone>;
export const BackboneCodec = backbone as unknown as t.Type<Backbone, BackboneInput>;

const range = (name: string, ok: (lo: number, hi: number) => boolean) =>
  t.refinement(t.tuple([positive, positive]), ([lo, hi]) => ok(lo, hi), name) as unknown as t.Type<readonly [number, number]>;

const augment = struct("augment", {
  flip: withDefault(t.boolean, true),
  crop: withDefault(
    nullable(
      struct("crop", {
        scale: withDefault(
          range("[min, max] with 0 < min ≤ max ≤ 1", (lo, hi) => lo <= hi && hi <= 1),
          [0.08, 1] as const,
        ),
        ratio: withDefault(
          range("[min, max] with 0 < min ≤ max", (lo, hi) => lo <= hi),
          [3 / 4, 4 / 3] as const,
        ),
      }),
    ),
    { scale: [0.08, 1], ratio: [3 / 4, 4 / 3] },
  ),
});
export type AugmentInput = InputOf<typeof augment>;
export const AugmentCodec = augment as unknown as t.Type<Augment, AugmentInput>;

const metrics = struct("metrics", {
  examples: withDefault(intAtLeast(0), defaultMetrics.examples),
  everyEpoch: withDefault(t.boolean, defaultMetrics.everyEpoch),
});
export type MetricsInput = InputOf<typeof metrics>;
export const MetricsCodec = metrics as unknown as t.Type<Metrics, MetricsInput>;

const experiment = struct("experiment", {
  name: withDefault(t.string, "experiment"),
  backbone: withDefault(BackboneCodec, { weights: "default", head: "reset" }),
  data: TaskCodec,
  method: MethodCodec,
  optimizer: AdamWCodec,
  schedule: ScheduleCodec,
  labelSmoothing: withDefault(unitInterval, 0),
  dropPath: withDefault(unitInterval, 0),
  augment: optional(AugmentCodec),
  metrics: withDefault(MetricsCodec, defaultMetrics),
  seed: withDefault(integer, 0),
});
/**
 * An experiment as a user writes it, in JSON or TypeScript: every field with a default may be left
 * out (`name`, `backbone`, `labelSmoothing`, `metrics`, `seed`, an optimizer's `beta1`, a task's
 * `testLimit`, …). `decodeExperiment` (and `runExperiment`, which takes one) fills them.
 */
export type ExperimentInput = InputOf<typeof experiment>;
export const ExperimentCodec = experiment as unknown as t.Type<Experiment, ExperimentInput>;

/** Decode with readable, path-naming error lines. */
export const decodeMethod = (u: unknown) => decodeWith(MethodCodec, u);
export const decodeExperiment = (u: unknown) => decodeWith(ExperimentCodec, u);
export { finite };

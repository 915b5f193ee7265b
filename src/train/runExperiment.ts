import { augmentBatch } from "../data/augment.js";
import { ImageDataError } from "../data/imageDecoding.js";
import type { LoadedImages } from "../data/imageFolder.js";
import { loadImageTask, resolveTask } from "../data/imageTask.js";
import { runPreprocessing } from "../data/preprocessing.js";
import { timmHubConfig } from "../models/timmConfig.js";
import * as tf from "@tensorflow/tfjs-core";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { Effect } from "effect";
import type { Experiment } from "../dsl/experiment.js";
import { taskClasses, taskName } from "../dsl/experiment.js";
import { decodeExperiment, ExperimentCodec, type ExperimentInput } from "../dsl/codecs.js";
import { compileResolved, type Program } from "../interpreters/compile/program.js";
import { resolve } from "../interpreters/resolved.js";
import { trainer, type Trainer } from "../interpreters/compile/trainer.js";
import { countResolved, type CountReport } from "../interpreters/count.js";
import { mergedBackbone } from "../interpreters/merge.js";
import { adapterBytes } from "../interpreters/adapterFile.js";
import { MethodError } from "../interpreters/methodError.js";
import { backboneBytes, originMetadata, withZeroHead, type Backbone } from "../models/backbone.js";
import { buildTask, TaskError, type TaskData } from "../data/task.js";
import { batchesPerEpoch, epochOrder, gather } from "../data/dataset.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { BadInput, IoFailure, NanLoss } from "./errors.js";
import { SafetensorsError } from "../models/safetensors.js";
import { lockRunDirectory, removeDeadWriters } from "./runDirectory.js";
import { appendLogLine, readLog, resumedLog, type LogLine } from "./runLog.js";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.js";
import { outputFiles, type EpochRecord, type RunResult } from "./runResult.js";

export { outputFiles, type RunResult } from "./runResult.js";
import { learningRate } from "./learningRate.js";
import { accuracy } from "./evaluate.js";
import { fingerprint, recordedFingerprint } from "./fingerprint.js";
import { backbonePath, loadBackbone, readOptions } from "./loadBackbone.js";
import type { Progress } from "./progress.js";
import type { Counter } from "../util/counter.js";
import { TfBackend, wasmHeapBytes } from "./backend.js";
import { dropPathKeep } from "./dropPath.js";
import { describePrelude, isPrelude, preludeCounts, runPrelude, type PreludeRecord } from "../interpreters/rules/prelude.js";
import { representationMetrics } from "../interpreters/representation.js";
import { showLoss, termNames } from "../dsl/loss.js";
import { lossKindOf } from "../losses/registry.js";
import { firesBefore, type Rule } from "../dsl/rule.js";
import { reconfigureRule } from "../interpreters/rules/units.js";
import { compileConfiguration } from "../interpreters/rules/configuration.js";
import { configurationOf, describeReconfiguration, reconfigureCycle, type Cycle, type ReconfigurationRecord } from "../interpreters/rules/reconfigure.js";
import { configurationHeatmap } from "../interpreters/rules/configurationHeatmap.js";

export interface RunOptions {
  readonly outDir: string;
  readonly resume: boolean;
  readonly progress: Progress;
  /** Directory that relative paths in the experiment are resolved against (the file's own). */
  readonly baseDir: string;
  /** A backbone built in memory (pretraining from scratch) instead of `experiment.backbone.weights`. */
  readonly backbone?: Backbone;
}

const io = <A>(path: string, f: () => A) => Effect.try({ try: f, catch: (e) => new IoFailure({ path, reason: (e as Error).message }) });

/** Everything that can reject the input, done before anything is written. */
const prepare = (input: ExperimentInput, o: RunOptions) =>
  Effect.gen(function* () {
    // As a file would be read: defaults filled, every field checked (a decoded experiment decodes to itself).
    const decoded = decodeExperiment(input);
    if (decoded._tag === "Left") return yield* new BadInput({ lines: decoded.left.map((l) => `experiment: ${l}`) });
    const given = decoded.right;
    const exp: Experiment = {
      ...given,
      data: yield* Effect.try({ try: () => resolveTask(given.data, o.baseDir), catch: (e) => new BadInput({ lines: [(e as Error).message] }) }),
    };
    const files = outputFiles(o.outDir);
    if (!o.resume && (existsSync(files.checkpoint) || existsSync(files.result))) {
      return yield* new BadInput({ lines: [`--out ${o.outDir} already holds a run; pass --resume to continue it, or choose another directory`] });
    }
    const weights = backbonePath(exp.backbone.weights, o.baseDir);
    if (o.backbone === undefined) o.progress.info(`backbone: reading ${weights}…`);
    const loaded = o.backbone ?? (yield* loadBackbone(weights, "backbone.weights", readOptions(exp.backbone)));
    const classes = taskClasses(exp.data);
    if (exp.backbone.head === "keep" && loaded.config.classes !== classes) {
      return yield* new BadInput({
        lines: [`backbone.head is "keep" but the backbone has ${loaded.config.classes} classes and data has ${classes}; use "reset"`],
      });
    }
    const backbone: Backbone = exp.backbone.head === "reset" ? withZeroHead(loaded, classes) : loaded;
    const task = exp.data;
    o.progress.info(task._tag === "ImageFolder" || task._tag === "ImageList" ? `reading images from ${task.root}…` : `data: building ${taskName(task)}…`);
    const data: TaskData & Partial<Pick<LoadedImages, "skipped" | "decodeSeconds" | "cache">> =
      task._tag === "ImageFolder" || task._tag === "ImageList"
        ? yield* Effect.tryPromise({
            try: () =>
              loadImageTask(task, o.baseDir, backbone.config, loaded.timm?.pretrainedCfg, (done, total) => o.progress.counted("decoding images", done, total)),
            catch: (e) =>
              e instanceof ImageDataError ? new BadInput({ lines: [e.message] }) : new IoFailure({ path: task.root, reason: (e as Error).message }),
          })
        : yield* Effect.try({
            try: () => buildTask(task, backbone.config),
            catch: (e) => (e instanceof TaskError ? new BadInput({ lines: [e.message] }) : new IoFailure({ path: "MNIST", reason: (e as Error).message })),
          });
    if (data.decodeSeconds !== undefined)
      o.progress.info(
        `images: ${data.train.count + data.val.count + data.test.count} at ${backbone.config.image}×${backbone.config.image}×${backbone.config.channels} in ${data.decodeSeconds.toFixed(1)}s (cache ${data.cache})${data.skipped?.length ? `, ${data.skipped.length} unreadable skipped` : ""}`,
      );
    const batchStatistic = exp.schedule.microBatch === undefined ? -1 : exp.method.losses.findIndex((l) => lossKindOf(l).wholeBatch);
    if (batchStatistic >= 0) {
      return yield* new BadInput({
        lines: [
          `schedule.microBatch: method.losses[${batchStatistic}] (${exp.method.losses[batchStatistic]!._tag}) compares statistics of the whole batch, which micro-batches would change; drop microBatch or the term`,
        ],
      });
    }
    // The one resolution of the method: every check, before anything is written.
    const resolved = yield* Effect.try({
      try: () => resolve(exp.method, backbone.config),
      catch: (e) => new BadInput({ lines: [e instanceof MethodError ? `method.${e.message}` : (e as Error).message] }),
    });
    return { backbone, data, files, exp, resolved };
  });

/** Seconds into a training step after which its micro-batches are counted out loud. */
const slowStepSeconds = 5;

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

type Prepared = Effect.Success<ReturnType<typeof prepare>>;
type Settings = Parameters<typeof trainer>[1];
type Files = ReturnType<typeof outputFiles>;

/** The program in training and its optimiser; a reconfiguration replaces both. */
interface Live {
  program: Program;
  train: Trainer;
}

/** What a run accumulates, checkpointed after every epoch. */
interface Progressed {
  readonly history: EpochRecord[];
  readonly preludes: PreludeRecord[];
  readonly reconfigurations: ReconfigurationRecord[];
  readonly stepTimes: number[];
  trainedImages: number;
}

const log = (files: Files, line: LogLine) => io(files.log, () => appendLogLine(files.log, line));

/** One writer per run directory (released with the scope); what killed writers left behind goes. */
const ownRunDirectory = (o: RunOptions) =>
  Effect.gen(function* () {
    yield* Effect.acquireRelease(
      Effect.try({
        try: () => lockRunDirectory(o.outDir),
        catch: (e) => (e instanceof BadInput ? e : new IoFailure({ path: o.outDir, reason: (e as Error).message })),
      }),
      (release) => Effect.sync(release),
    );
    const removed = removeDeadWriters(o.outDir);
    if (removed > 0) o.progress.info(`removed ${removed} temporary file(s) of an interrupted write in ${o.outDir}`);
  });

/** A finished run's result when `--resume` finds one of this very experiment (of another: refused). */
const finishedRun = (o: RunOptions, files: Files, print: string) =>
  Effect.gen(function* () {
    const finished = yield* io(files.result, () => {
      try {
        return JSON.parse(readFileSync(files.result, "utf8")) as RunResult;
      } catch {
        return null;
      }
    });
    const was = finished === null ? null : recordedFingerprint(finished.experiment);
    if (was !== print) {
      return yield* new BadInput({
        lines: [
          `${o.outDir} holds a finished run of a different experiment (fingerprint ${was ?? "unreadable"}, this one is ${print}); choose another --out, or delete the directory to rerun`,
        ],
      });
    }
    o.progress.info(`${o.outDir} holds a finished run of this experiment; nothing to resume`);
    return finished!;
  });

/** Continue from the checkpoint: the program's values, the optimiser's state, the records; the log cut back to them. */
const resumeFrom = (c: Checkpoint, live: Live, run: Progressed, o: RunOptions, files: Files, print: string) =>
  Effect.gen(function* () {
    if (c.fingerprint !== print) {
      return yield* new BadInput({
        lines: [
          `${files.checkpoint} was written by a different experiment (fingerprint ${c.fingerprint}, this one is ${print}); resume needs the same file and flags`,
        ],
      });
    }
    live.program.setValues(c.adapter);
    live.train.loadState(c.optimizer, c.steps);
    run.history.push(...c.history);
    run.preludes.push(...(c.preludes as PreludeRecord[]));
    yield* io(files.log, () => {
      const { records, torn } = existsSync(files.log) ? readLog(readFileSync(files.log, "utf8")) : { records: [], torn: 0 };
      if (torn > 0) o.progress.info(`${files.log}: dropped ${torn} torn line(s) (an interrupted write); the checkpoint is intact`);
      writeFileAtomic(files.log, resumedLog(records, c.history));
    });
    o.progress.info(`resuming after epoch ${c.epochs}`);
  });

/** A fresh run: the directory and an empty log, then the `once` rules, whose state is checkpointed with the adapter. */
const start = (p: Prepared, live: Live, run: Progressed, o: RunOptions) =>
  Effect.gen(function* () {
    const { exp, files } = p;
    yield* io(o.outDir, () => {
      mkdirSync(o.outDir, { recursive: true });
      writeFileAtomic(files.log, "");
    });
    for (const rule of exp.method.rules.filter(isPrelude)) {
      o.progress.info(`rule: ${describePrelude(rule)}`);
      const counted = (done: number, total: number) => o.progress.counted(preludeCounts(rule), done, total);
      const { values, record } = yield* Effect.promise(() => runPrelude(rule, live.program, p.backbone, p.data.train, exp.schedule.batchSize, counted));
      live.program.setValues(values);
      run.preludes.push(record);
      yield* log(files, { type: "rule", epoch: -1, ...record });
      o.progress.info(`rule: set ${values.size} tensor(s) in ${record.seconds.toFixed(1)}s`);
    }
  });

/** One training step on a batch (augmented, with drop-path keeps when asked); a non-finite loss or gradient stops the run. */
const trainStep = (
  p: Prepared,
  live: Live,
  run: Progressed,
  epoch: number,
  i: number,
  indices: readonly number[],
  step: number,
  lr: number,
  progress: Progress,
) =>
  Effect.gen(function* () {
    const { exp, data, backbone } = p;
    const t0 = performance.now();
    const b = gather(data.train, indices);
    const batch = exp.augment === undefined ? b : augmentBatch(b, data.train.shape, exp.augment, exp.seed, epoch, i);
    const images = tf.tensor4d(batch.images, [b.count, ...data.train.shape]);
    const labels = tf.tensor1d(b.labels, "int32");
    const depth = backbone.config.depth;
    const keep = exp.dropPath > 0 ? tf.tensor2d(dropPathKeep(exp.dropPath, depth, b.count, exp.seed, step), [b.count, 2 * depth]) : undefined;
    // A slow step's micro-batches (ViT-B at 224²) are counted out loud; a fast step's would be noise.
    const passed: Counter = (done, total) => {
      if (performance.now() - t0 >= 1000 * slowStepSeconds) progress.counted(`epoch ${epoch + 1} step ${i + 1}: micro-batches`, done, total);
    };
    const r = yield* Effect.promise(() => live.train.step(images, labels, lr, keep, passed));
    tf.dispose([images, labels, ...(keep === undefined ? [] : [keep])]);
    run.stepTimes.push(performance.now() - t0);
    run.trainedImages += b.count;
    if (!r.applied) {
      yield* log(p.files, { type: "error", epoch, step: step + 1, lr, terms: r.terms, gradMaxAbs: r.gradMaxAbs });
      return yield* new NanLoss({
        epoch,
        step: step + 1,
        lr,
        terms: r.terms,
        gradMaxAbs: r.gradMaxAbs,
        lastCheckpoint: run.history.length > 0 ? String(run.history.length) : null,
      });
    }
    yield* log(p.files, { type: "step", epoch, step: step + 1, loss: r.loss, lr, terms: r.terms });
    return r;
  });

/** A reconfiguration cycle (DAF) before a step: a new program and optimiser, the record logged. */
const reconfigureBefore = (
  p: Prepared,
  cycle: Cycle,
  live: Live,
  run: Progressed,
  settings: Settings,
  o: RunOptions,
  at: { readonly epoch: number; readonly step: number },
) =>
  Effect.gen(function* () {
    const r0 = performance.now();
    const { program, record } = yield* Effect.promise(() => reconfigureCycle(cycle, live.program, run.reconfigurations.at(-1), at));
    live.train.dispose();
    live.program.dispose();
    live.program = program;
    live.train = trainer(program, settings);
    run.reconfigurations.push(record);
    yield* log(p.files, { type: "reconfigure", ...record });
    o.progress.info(describeReconfiguration(record));
    return (performance.now() - r0) / 1000;
  });

/** One epoch: its steps (reconfiguring where the rule fires), validation, the epoch's record, a checkpoint. */
const trainEpoch = (
  p: Prepared,
  dynamic: { readonly cycle: Cycle; readonly when: Rule["when"] } | null,
  live: Live,
  run: Progressed,
  settings: Settings,
  o: RunOptions,
  epoch: number,
  print: string,
) =>
  Effect.gen(function* () {
    const { exp, data, files } = p;
    const stepsPerEpoch = batchesPerEpoch(data.train.count, exp.schedule.batchSize);
    const started = performance.now();
    let reconfigureSeconds = 0;
    let lossSum = 0;
    const termSums: Record<string, number> = {};
    let lastLr = 0;
    for (const [i, indices] of epochOrder(data.train.count, exp.schedule.batchSize, exp.seed, epoch).entries()) {
      const step = epoch * stepsPerEpoch + i;
      if (dynamic !== null && firesBefore(dynamic.when, { epoch, stepInEpoch: i, step }))
        reconfigureSeconds += yield* reconfigureBefore(p, dynamic.cycle, live, run, settings, o, { epoch, step });
      const lr = learningRate(exp.schedule, exp.optimizer, step, stepsPerEpoch);
      if (run.stepTimes.length === 0)
        o.progress.info(`epoch ${epoch + 1}/${exp.schedule.epochs}: first step (slower than the rest: the backend prepares its kernels)…`);
      const r = yield* trainStep(p, live, run, epoch, i, indices, step, lr, o.progress);
      lossSum += r.loss;
      for (const [k, v] of Object.entries(r.terms)) termSums[k] = (termSums[k] ?? 0) + v;
      lastLr = lr;
      const elapsed = (performance.now() - started) / 1000;
      const remainingSteps = (exp.schedule.epochs - epoch) * stepsPerEpoch - (i + 1);
      o.progress.step({
        epoch,
        epochs: exp.schedule.epochs,
        step: i + 1,
        steps: stepsPerEpoch,
        loss: r.loss,
        lr,
        etaSeconds: (elapsed / (i + 1)) * remainingSteps,
      });
      yield* Effect.yieldNow;
    }
    const { program, train } = live;
    const valAccuracy = yield* Effect.promise(() =>
      accuracy(program, data.val, exp.schedule.evalBatch, (done, total) => o.progress.counted("validating", done, total)),
    );
    const seconds = (performance.now() - started) / 1000 - reconfigureSeconds;
    const record: EpochRecord = {
      epoch,
      steps: epoch * stepsPerEpoch + stepsPerEpoch,
      trainLoss: lossSum / stepsPerEpoch,
      terms: Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / stepsPerEpoch])),
      valAccuracy,
      lr: lastLr,
      seconds,
      ...(reconfigureSeconds > 0 ? { reconfigureSeconds } : {}),
      ...(metricsOn(exp, true) ? { representation: yield* measureRepresentation(p, program, o) } : {}),
    };
    run.history.push(record);
    const [adapter, optimizer] = yield* Effect.promise(() => Promise.all([program.values(), train.state()]));
    yield* io(files.checkpoint, () =>
      saveCheckpoint(files.checkpoint, {
        fingerprint: print,
        epochs: run.history.length,
        steps: train.steps(),
        history: run.history,
        preludes: run.preludes,
        reconfigurations: run.reconfigurations,
        adapter,
        optimizer,
      }),
    );
    yield* log(files, { type: "epoch", ...record });
    o.progress.epoch({ epoch, epochs: exp.schedule.epochs, trainLoss: record.trainLoss, valAccuracy, seconds: record.seconds });
  });

/** Representation metrics on held-out images: after training, and after every epoch with `everyEpoch`. */
const metricsOn = (exp: Experiment, epochEnd: boolean) => exp.metrics.examples > 0 && (!epochEnd || exp.metrics.everyEpoch);

/** The representation metrics, said before they start and counted as they go (two forward passes an image). */
const measureRepresentation = (p: Prepared, program: Program, o: RunOptions) => {
  const n = Math.min(p.exp.metrics.examples, p.data.test.count);
  o.progress.info(`representation metrics on ${n} test images (tuned and pretrained forward passes)…`);
  return Effect.promise(() =>
    representationMetrics(program, p.data.test, n, p.exp.schedule.evalBatch, (done, total) => o.progress.counted("representation", done, total)),
  );
};

/** Test accuracy, the representation metrics and the result record of a finished training. */
const finalResult = (p: Prepared, program: Program, run: Progressed, counts: CountReport, backend: string, o: RunOptions) =>
  Effect.gen(function* () {
    const { exp, data } = p;
    const testStarted = performance.now();
    o.progress.info(`evaluating on ${data.test.count} test images…`);
    const testAccuracy = yield* Effect.promise(() =>
      accuracy(program, data.test, exp.schedule.evalBatch, (done, total) => o.progress.counted("testing", done, total)),
    );
    o.progress.info(`test accuracy ${(100 * testAccuracy).toFixed(2)}% (${((performance.now() - testStarted) / 1000).toFixed(1)}s)`);
    const { history, reconfigurations, stepTimes } = run;
    const last = history[history.length - 1]!;
    // With everyEpoch the last epoch already measured this very state.
    const representation = metricsOn(exp, false) ? (last.representation ?? (yield* measureRepresentation(p, program, o))) : null;
    if (representation)
      o.progress.info(`representation on ${representation.examples} test images: Sim (linear CKA to pretrained) ${representation.sim.toFixed(4)}`);
    const names = termNames(exp.method.losses);
    // Under reconfiguration the most that trained at once.
    const trainable = reconfigurations.length === 0 ? counts.trainable : Math.max(...reconfigurations.map((r) => r.trainable));
    const result: RunResult = {
      name: exp.name,
      backend,
      trainable,
      backboneParams: counts.backbone,
      trainablePercent: (100 * trainable) / counts.backbone,
      metrics: { trainLoss: last.trainLoss, valAccuracy: last.valAccuracy, testAccuracy },
      losses: [
        {
          name: "ce",
          term: exp.labelSmoothing > 0 ? `cross-entropy, label smoothing ${exp.labelSmoothing}` : "cross-entropy",
          weight: 1,
          lastEpochMean: last.terms.ce ?? NaN,
        },
        ...exp.method.losses.map((l, i) => ({ name: names[i]!, term: showLoss(l), weight: l.weight, lastEpochMean: last.terms[names[i]!] ?? NaN })),
      ],
      representation,
      timings: {
        trainSeconds: history.reduce((s, h) => s + h.seconds, 0),
        medianStepMs: median(stepTimes),
        testSeconds: (performance.now() - testStarted) / 1000,
        trainImagesPerSecond: run.trainedImages / (stepTimes.reduce((a, b) => a + b, 0) / 1000),
        reconfigureSeconds: history.reduce((s, h) => s + (h.reconfigureSeconds ?? 0), 0),
      },
      memory: { peakRssBytes: process.resourceUsage().maxRSS * 1024, wasmHeapBytes: wasmHeapBytes() },
      plans: Object.fromEntries(program.plans),
      preludes: run.preludes,
      reconfigurations,
      history,
      ...(data.decodeSeconds === undefined ? {} : { images: { decodeSeconds: data.decodeSeconds, cache: data.cache!, skipped: data.skipped ?? [] } }),
      experiment: ExperimentCodec.encode(exp),
    };
    return result;
  });

/** Train an experiment (as a file holds it: defaults may be left out) end to end: checkpoint each epoch, resume on request, write the four outputs. */
export const runExperiment = (given: ExperimentInput, o: RunOptions) =>
  Effect.gen(function* () {
    const backend = yield* TfBackend;
    o.progress.info(`backend: ${backend.description}`);
    // `exp` is the experiment as run: an image folder's classes read from it.
    const prepared = yield* prepare(given, o);
    const { backbone, data, files, exp } = prepared;
    const print = fingerprint(exp);
    yield* ownRunDirectory(o);
    const opt = exp.optimizer;
    const settings: Settings = {
      beta1: opt.beta1,
      beta2: opt.beta2,
      eps: opt.eps,
      weightDecay: opt.weightDecay,
      labelSmoothing: exp.labelSmoothing,
      ...(exp.schedule.microBatch === undefined ? {} : { microBatch: exp.schedule.microBatch }),
    };
    const checkpoint =
      o.resume && existsSync(files.checkpoint)
        ? yield* Effect.try({
            try: () => loadCheckpoint(files.checkpoint),
            catch: (e) =>
              e instanceof SafetensorsError
                ? new BadInput({ lines: [`${e.message}; the run cannot resume from it (delete it to start over)`] })
                : new IoFailure({ path: files.checkpoint, reason: (e as Error).message }),
          })
        : null;
    const run: Progressed = {
      history: [],
      preludes: [],
      reconfigurations: [...((checkpoint?.reconfigurations ?? []) as ReconfigurationRecord[])],
      stepTimes: [],
      trainedImages: 0,
    };
    // A reconfigure rule (DAF) compiles the configuration in force; the program and its optimiser are rebuilt at each cycle.
    const rule = reconfigureRule(exp.method);
    const dynamic =
      rule === null
        ? null
        : {
            when: rule.rule.when,
            cycle: {
              method: exp.method,
              action: rule.rule.action,
              units: prepared.resolved.units,
              backbone,
              train: data.train,
              batchSize: exp.schedule.batchSize,
              seed: exp.seed,
            },
          };
    o.progress.info(`compiling the method onto the backbone…`);
    const live: Live = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const program =
          dynamic === null
            ? compileResolved(prepared.resolved, backbone, { seed: exp.seed })
            : compileConfiguration(
                dynamic.cycle.method,
                dynamic.cycle.action,
                dynamic.cycle.units,
                configurationOf(run.reconfigurations.at(-1)),
                backbone,
                exp.seed,
              );
        return { program, train: trainer(program, settings) };
      }),
      (l) =>
        Effect.sync(() => {
          l.train.dispose();
          l.program.dispose();
        }),
    );
    if (checkpoint !== null) yield* resumeFrom(checkpoint, live, run, o, files, print);
    else if (o.resume && existsSync(files.result)) return yield* finishedRun(o, files, print);
    else yield* start(prepared, live, run, o);
    const counts = countResolved(prepared.resolved);
    if (counts.reconfigured !== null) {
      const b = counts.reconfigured.budget;
      o.progress.info(
        `reconfigure: ${counts.reconfigured.candidates} candidates of ${counts.reconfigured.total.toLocaleString("en-US")} scalars; budget matrices ${b.matrices}, vectors ${b.vectors}, special ${b.special}`,
      );
    }
    o.progress.info(
      `${exp.name}: ${counts.trainable.toLocaleString("en-US")} trainable of ${counts.backbone.toLocaleString("en-US")} backbone parameters (${counts.percent.toFixed(3)}%), ${data.train.count} train / ${data.val.count} val / ${data.test.count} test`,
    );
    for (let epoch = run.history.length; epoch < exp.schedule.epochs; epoch++) yield* trainEpoch(prepared, dynamic, live, run, settings, o, epoch, print);
    const result = yield* finalResult(prepared, live.program, run, counts, backend.description, o);
    o.progress.info(`writing ${o.outDir}: the adapter, the merged backbone, result.json…`);
    yield* writeOutputs(live.program, exp, result, files, dynamic?.cycle ?? null, backbone.timm);
    return result;
  });

const writeOutputs = (
  program: Program,
  exp: Experiment,
  result: RunResult,
  files: ReturnType<typeof outputFiles>,
  cycle: Pick<Cycle, "action" | "units"> | null,
  timm: Backbone["timm"],
) =>
  Effect.gen(function* () {
    const adapter = yield* Effect.promise(() => adapterBytes(program, exp.backbone.head, result.preludes));
    const merged = yield* Effect.promise(() => mergedBackbone(program));
    yield* io(files.result, () => {
      writeFileAtomic(files.adapter, adapter);
      // What the run fed the model, so that the merged weights (and config.json) carry it on.
      const used = runPreprocessing(exp.data, merged.config, timm?.pretrainedCfg);
      writeFileAtomic(
        files.merged,
        backboneBytes(merged, { source: `peft-dsl merge of ${exp.name}`, ...originMetadata(merged.config, { ...timm, pretrainedCfg: used }) }),
      );
      // timm's config beside it: timm.create_model(architecture, pretrained=True, pretrained_cfg_overlay=dict(file=merged.safetensors), **model_args).
      // A merged AdaptFormer keeps modules timm's VisionTransformer does not have: no config.json then.
      if (!(merged.config.mlpAdapters ?? []).some((b) => b > 0))
        writeFileAtomic(files.timmConfig, `${JSON.stringify(timmHubConfig(merged.config, timm?.architecture, used, timm?.name), null, 2)}\n`);
      if (cycle !== null && result.reconfigurations.length > 0) {
        writeFileAtomic(
          files.heatmap,
          configurationHeatmap({
            records: result.reconfigurations,
            epochEnds: result.history.map((h) => h.steps),
            units: cycle.units,
            retain: cycle.action.retain,
          }),
        );
      }
      writeFileAtomic(files.result, `${JSON.stringify(result, null, 2)}\n`);
      rmSync(files.checkpoint, { force: true });
    });
  });

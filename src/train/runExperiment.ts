import { augmentBatch } from "../data/augment.js";
import { ImageDataError } from "../data/imageDecoding.js";
import type { LoadedImages } from "../data/imageFolder.js";
import { loadImageTask, resolveTask } from "../data/imageTask.js";
import { timmHubConfig } from "../models/timmConfig.js";
import * as tf from "@tensorflow/tfjs-core";
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { Effect } from "effect";
import type { Experiment } from "../dsl/experiment.js";
import { taskClasses } from "../dsl/experiment.js";
import { ExperimentCodec } from "../dsl/codecs.js";
import { compile, type Program } from "../interpreters/compile/program.js";
import { trainer } from "../interpreters/compile/trainer.js";
import { countMethod } from "../interpreters/count.js";
import { mergedBackbone } from "../interpreters/merge.js";
import { adapterBytes } from "../interpreters/adapterFile.js";
import { MethodError } from "../interpreters/methodError.js";
import { backboneBytes, withZeroHead, type Backbone } from "../models/backbone.js";
import { buildTask, TaskError, type TaskData } from "../data/task.js";
import { batchesPerEpoch, epochOrder, gather } from "../data/dataset.js";
import { writeFileAtomic } from "../util/atomicWrite.js";
import { BadInput, IoFailure, NanLoss } from "./errors.js";
import { SafetensorsError } from "../models/safetensors.js";
import { lockRunDirectory, removeDeadWriters } from "./runDirectory.js";
import { readLog } from "./runLog.js";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.js";
import { outputFiles, type EpochRecord, type RunResult } from "./runResult.js";

export { outputFiles, type RunResult } from "./runResult.js";
import { learningRate } from "./learningRate.js";
import { accuracy } from "./evaluate.js";
import { fingerprint, recordedFingerprint } from "./fingerprint.js";
import { backbonePath, loadBackbone, readOptions } from "./loadBackbone.js";
import type { Progress } from "./progress.js";
import { TfBackend, wasmHeapBytes } from "./backend.js";
import { dropPathKeep } from "./dropPath.js";
import { describePrelude, runPrelude, type PreludeRecord } from "../interpreters/rules/prelude.js";
import { representationMetrics } from "../interpreters/representation.js";
import { showLoss, termNames } from "../dsl/loss.js";
import { firesBefore } from "../dsl/rule.js";
import { candidateUnits, reconfigureRule } from "../interpreters/rules/units.js";
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

const io = <A>(path: string, f: () => A) =>
  Effect.try({ try: f, catch: (e) => new IoFailure({ path, reason: (e as Error).message }) });

/** Everything that can reject the input, done before anything is written. */
const prepare = (given: Experiment, o: RunOptions) =>
  Effect.gen(function* () {
    const exp: Experiment = { ...given, data: yield* Effect.try({ try: () => resolveTask(given.data, o.baseDir), catch: (e) => new BadInput({ lines: [(e as Error).message] }) }) };
    const files = outputFiles(o.outDir);
    if (!o.resume && (existsSync(files.checkpoint) || existsSync(files.result))) {
      return yield* new BadInput({ lines: [`--out ${o.outDir} already holds a run; pass --resume to continue it, or choose another directory`] });
    }
    const loaded = o.backbone ?? (yield* loadBackbone(backbonePath(exp.backbone.weights, o.baseDir), "backbone.weights", readOptions(exp.backbone)));
    const classes = taskClasses(exp.data);
    if (exp.backbone.head === "keep" && loaded.config.classes !== classes) {
      return yield* new BadInput({ lines: [`backbone.head is "keep" but the backbone has ${loaded.config.classes} classes and data has ${classes}; use "reset"`] });
    }
    const backbone: Backbone = exp.backbone.head === "reset" ? withZeroHead(loaded, classes) : loaded;
    const task = exp.data;
    if (task._tag === "ImageFolder" || task._tag === "ImageList") o.progress.info(`reading images from ${task.root}…`);
    const data: TaskData & Partial<Pick<LoadedImages, "skipped" | "decodeSeconds" | "cache">> = task._tag === "ImageFolder" || task._tag === "ImageList"
      ? yield* Effect.tryPromise({
        try: () => loadImageTask(task, o.baseDir, backbone.config, loaded.timm?.pretrainedCfg, (done, total) => o.progress.counted("decoding images", done, total)),
        catch: (e) => (e instanceof ImageDataError ? new BadInput({ lines: [e.message] }) : new IoFailure({ path: task.root, reason: (e as Error).message })),
      })
      : yield* Effect.try({
        try: () => buildTask(task, backbone.config),
        catch: (e) => (e instanceof TaskError ? new BadInput({ lines: [e.message] }) : new IoFailure({ path: "MNIST", reason: (e as Error).message })),
      });
    if (data.decodeSeconds !== undefined) o.progress.info(`images: ${data.train.count + data.val.count + data.test.count} at ${backbone.config.image}×${backbone.config.image}×${backbone.config.channels} in ${data.decodeSeconds.toFixed(1)}s (cache ${data.cache})${data.skipped?.length ? `, ${data.skipped.length} unreadable skipped` : ""}`);
    const batchStatistic = exp.schedule.microBatch === undefined ? -1 : exp.method.losses.findIndex((l) => l._tag === "Baft" || l._tag === "Rift" || l._tag === "Rsc");
    if (batchStatistic >= 0) {
      return yield* new BadInput({ lines: [`schedule.microBatch: method.losses[${batchStatistic}] (${exp.method.losses[batchStatistic]!._tag}) compares statistics of the whole batch, which micro-batches would change; drop microBatch or the term`] });
    }
    yield* Effect.try({
      try: () => countMethod(exp.method, backbone.config),
      catch: (e) => new BadInput({ lines: [e instanceof MethodError ? `method.${e.message}` : (e as Error).message] }),
    });
    return { backbone, data, files, exp };
  });

const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** Train an experiment end to end: checkpoint each epoch, resume on request, write the four outputs. */
export const runExperiment = (given: Experiment, o: RunOptions) =>
  Effect.gen(function* () {
    const backend = yield* TfBackend;
    // `exp` is the experiment as run: an image folder's classes read from it.
    const { backbone, data, files, exp } = yield* prepare(given, o);
    const print = fingerprint(exp);
    // One writer per run directory; what killed writers left behind goes.
    yield* Effect.acquireRelease(
      Effect.try({ try: () => lockRunDirectory(o.outDir), catch: (e) => (e instanceof BadInput ? e : new IoFailure({ path: o.outDir, reason: (e as Error).message })) }),
      (release) => Effect.sync(release),
    );
    const removed = removeDeadWriters(o.outDir);
    if (removed > 0) o.progress.info(`removed ${removed} temporary file(s) of an interrupted write in ${o.outDir}`);
    const opt = exp.optimizer;
    const settings = {
      beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps, weightDecay: opt.weightDecay, labelSmoothing: exp.labelSmoothing,
      ...(exp.schedule.microBatch === undefined ? {} : { microBatch: exp.schedule.microBatch }),
    };
    const checkpoint = o.resume && existsSync(files.checkpoint)
      ? yield* Effect.try({
        try: () => loadCheckpoint(files.checkpoint),
        catch: (e) => (e instanceof SafetensorsError ? new BadInput({ lines: [`${e.message}; the run cannot resume from it (delete it to start over)`] }) : new IoFailure({ path: files.checkpoint, reason: (e as Error).message })),
      })
      : null;
    const reconfigurations: ReconfigurationRecord[] = [...((checkpoint?.reconfigurations ?? []) as ReconfigurationRecord[])];
    // A reconfigure rule (DAF) compiles the configuration in force; the program and its optimiser are rebuilt at each cycle.
    const dynamic = reconfigureRule(exp.method);
    const cycle = dynamic === null ? null : {
      method: exp.method, action: dynamic.rule.action, units: candidateUnits(dynamic.rule.action, backbone.config), backbone, train: data.train, batchSize: exp.schedule.batchSize, seed: exp.seed,
    };
    const live = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const program = cycle === null ? compile(exp.method, backbone, { seed: exp.seed })
          : compileConfiguration(cycle.method, cycle.action, cycle.units, configurationOf(reconfigurations.at(-1)), backbone, exp.seed);
        return { program, train: trainer(program, settings) };
      }),
      (l) => Effect.sync(() => {
        l.train.dispose();
        l.program.dispose();
      }),
    );
    const history: EpochRecord[] = [];
    const preludes: PreludeRecord[] = [];
    if (checkpoint !== null) {
      const c = checkpoint;
      if (c.fingerprint !== print) {
        return yield* new BadInput({ lines: [`${files.checkpoint} was written by a different experiment (fingerprint ${c.fingerprint}, this one is ${print}); resume needs the same file and flags`] });
      }
      const { program, train } = live;
      program.setValues(c.adapter);
      train.loadState(c.optimizer, c.steps);
      history.push(...c.history);
      preludes.push(...(c.preludes as PreludeRecord[]));
      yield* io(files.log, () => {
        const { records, torn } = existsSync(files.log) ? readLog(readFileSync(files.log, "utf8")) : { records: [], torn: 0 };
        if (torn > 0) o.progress.info(`${files.log}: dropped ${torn} torn line(s) (an interrupted write); the checkpoint is intact`);
        writeFileAtomic(files.log, records.filter((r) => r.epoch < c.epochs).map((r) => `${r.line}\n`).join(""));
      });
      o.progress.info(`resuming after epoch ${c.epochs}`);
    } else if (o.resume && existsSync(files.result)) {
      const finished = yield* io(files.result, () => {
        try {
          return JSON.parse(readFileSync(files.result, "utf8")) as RunResult;
        } catch {
          return null;
        }
      });
      const was = finished === null ? null : recordedFingerprint(finished.experiment);
      if (was !== print) {
        return yield* new BadInput({ lines: [`${o.outDir} holds a finished run of a different experiment (fingerprint ${was ?? "unreadable"}, this one is ${print}); choose another --out, or delete the directory to rerun`] });
      }
      o.progress.info(`${o.outDir} holds a finished run of this experiment; nothing to resume`);
      return finished!;
    } else {
      yield* io(o.outDir, () => {
        mkdirSync(o.outDir, { recursive: true });
        writeFileAtomic(files.log, "");
      });
      // `once` rules run before the first step; their state is checkpointed with the adapter.
      for (const rule of exp.method.rules.filter((r) => r.action._tag !== "Reconfigure")) {
        const { program } = live;
        o.progress.info(`rule: ${describePrelude(rule)}`);
        const { values, record } = yield* Effect.promise(() => runPrelude(rule, program, backbone, data.train, exp.schedule.batchSize, (done, total) => o.progress.counted(rule.action._tag === "GradientEstimate" ? "gradient pre-estimate (batches)" : "feature statistics", done, total)));
        program.setValues(values);
        preludes.push(record);
        yield* io(files.log, () => appendFileSync(files.log, `${JSON.stringify({ type: "rule", epoch: -1, ...record })}\n`));
        o.progress.info(`rule: set ${values.size} tensor(s) in ${record.seconds.toFixed(1)}s`);
      }
    }
    const counts = countMethod(exp.method, backbone.config);
    if (counts.reconfigured !== null) {
      const b = counts.reconfigured.budget;
      o.progress.info(`reconfigure: ${counts.reconfigured.candidates} candidates of ${counts.reconfigured.total.toLocaleString("en-US")} scalars; budget matrices ${b.matrices}, vectors ${b.vectors}, special ${b.special}`);
    }
    o.progress.info(`backend: ${backend.description}`);
    o.progress.info(`${exp.name}: ${counts.trainable.toLocaleString("en-US")} trainable of ${counts.backbone.toLocaleString("en-US")} backbone parameters (${counts.percent.toFixed(3)}%), ${data.train.count} train / ${data.val.count} val / ${data.test.count} test`);
    const stepsPerEpoch = batchesPerEpoch(data.train.count, exp.schedule.batchSize);
    const stepTimes: number[] = [];
    let trainedImages = 0;
    const metricsOn = (epochEnd: boolean) => exp.metrics.examples > 0 && (!epochEnd || exp.metrics.everyEpoch);
    for (let epoch = history.length; epoch < exp.schedule.epochs; epoch++) {
      const started = performance.now();
      let reconfigureSeconds = 0;
      let lossSum = 0;
      const termSums: Record<string, number> = {};
      let lastLr = 0;
      for (const [i, indices] of epochOrder(data.train.count, exp.schedule.batchSize, exp.seed, epoch).entries()) {
        const step = epoch * stepsPerEpoch + i;
        if (cycle !== null && firesBefore(dynamic!.rule.when, { epoch, stepInEpoch: i, step })) {
          const r0 = performance.now();
          const { program, record: rec } = yield* Effect.promise(() => reconfigureCycle(cycle, live.program, reconfigurations.at(-1), { epoch, step }));
          live.train.dispose();
          live.program.dispose();
          live.program = program;
          live.train = trainer(program, settings);
          reconfigurations.push(rec);
          reconfigureSeconds += (performance.now() - r0) / 1000;
          yield* io(files.log, () => appendFileSync(files.log, `${JSON.stringify({ type: "reconfigure", ...rec })}\n`));
          o.progress.info(describeReconfiguration(rec));
        }
        const { train } = live;
        const lr = learningRate(exp.schedule, opt, step, stepsPerEpoch);
        const t0 = performance.now();
        const b = gather(data.train, indices);
        const batch = exp.augment === undefined ? b : augmentBatch(b, data.train.shape, exp.augment, exp.seed, epoch, i);
        const images = tf.tensor4d(batch.images, [b.count, ...data.train.shape]);
        const labels = tf.tensor1d(b.labels, "int32");
        const depth = backbone.config.depth;
        const keep = exp.dropPath > 0 ? tf.tensor2d(dropPathKeep(exp.dropPath, depth, b.count, exp.seed, step), [b.count, 2 * depth]) : undefined;
        const r = yield* Effect.promise(() => train.step(images, labels, lr, keep));
        tf.dispose([images, labels, ...(keep === undefined ? [] : [keep])]);
        stepTimes.push(performance.now() - t0);
        trainedImages += b.count;
        if (!r.applied) {
          yield* io(files.log, () => appendFileSync(files.log, `${JSON.stringify({ type: "error", epoch, step: step + 1, lr, terms: r.terms, gradMaxAbs: r.gradMaxAbs })}\n`));
          return yield* new NanLoss({ epoch, step: step + 1, lr, terms: r.terms, gradMaxAbs: r.gradMaxAbs, lastCheckpoint: history.length > 0 ? String(history.length) : null });
        }
        lossSum += r.loss;
        for (const [k, v] of Object.entries(r.terms)) termSums[k] = (termSums[k] ?? 0) + v;
        lastLr = lr;
        yield* io(files.log, () => appendFileSync(files.log, `${JSON.stringify({ type: "step", epoch, step: step + 1, loss: r.loss, lr, terms: r.terms })}\n`));
        const elapsed = (performance.now() - started) / 1000;
        const remainingSteps = (exp.schedule.epochs - epoch) * stepsPerEpoch - (i + 1);
        o.progress.step({ epoch, epochs: exp.schedule.epochs, step: i + 1, steps: stepsPerEpoch, loss: r.loss, lr, etaSeconds: (elapsed / (i + 1)) * remainingSteps });
        yield* Effect.yieldNow;
      }
      const { program, train } = live;
      const valAccuracy = yield* Effect.promise(() => accuracy(program, data.val, exp.schedule.evalBatch, (done, total) => o.progress.counted("validating", done, total)));
      const seconds = (performance.now() - started) / 1000 - reconfigureSeconds;
      const record: EpochRecord = {
        epoch, steps: epoch * stepsPerEpoch + stepsPerEpoch, trainLoss: lossSum / stepsPerEpoch, terms: Object.fromEntries(Object.entries(termSums).map(([k, v]) => [k, v / stepsPerEpoch])),
        valAccuracy, lr: lastLr, seconds, ...(reconfigureSeconds > 0 ? { reconfigureSeconds } : {}),
        ...(metricsOn(true) ? { representation: yield* Effect.promise(() => representationMetrics(program, data.test, exp.metrics.examples, exp.schedule.evalBatch)) } : {}),
      };
      history.push(record);
      const [adapter, optimizer] = yield* Effect.promise(() => Promise.all([program.values(), train.state()]));
      yield* io(files.checkpoint, () => saveCheckpoint(files.checkpoint, {
        fingerprint: print, epochs: history.length, steps: train.steps(), history, preludes, reconfigurations, adapter, optimizer,
      }));
      yield* io(files.log, () => appendFileSync(files.log, `${JSON.stringify({ type: "epoch", ...record })}\n`));
      o.progress.epoch({ epoch, epochs: exp.schedule.epochs, trainLoss: record.trainLoss, valAccuracy, seconds: record.seconds });
    }
    const { program } = live;
    const testStarted = performance.now();
    o.progress.info(`evaluating on ${data.test.count} test images…`);
    const testAccuracy = yield* Effect.promise(() => accuracy(program, data.test, exp.schedule.evalBatch, (done, total) => o.progress.counted("testing", done, total)));
    o.progress.info(`test accuracy ${(100 * testAccuracy).toFixed(2)}% (${((performance.now() - testStarted) / 1000).toFixed(1)}s)`);
    const last = history[history.length - 1]!;
    // With everyEpoch the last epoch already measured this very state.
    const representation = metricsOn(false) ? (last.representation ?? (yield* Effect.promise(() => representationMetrics(program, data.test, exp.metrics.examples, exp.schedule.evalBatch)))) : null;
    if (representation) o.progress.info(`representation on ${representation.examples} test images: Sim (linear CKA to pretrained) ${representation.sim.toFixed(4)}`);
    const names = termNames(exp.method.losses);
    // Under reconfiguration the most that trained at once.
    const trainable = reconfigurations.length === 0 ? counts.trainable : Math.max(...reconfigurations.map((r) => r.trainable));
    const result: RunResult = {
      name: exp.name,
      backend: backend.description,
      trainable,
      backboneParams: counts.backbone,
      trainablePercent: (100 * trainable) / counts.backbone,
      metrics: { trainLoss: last.trainLoss, valAccuracy: last.valAccuracy, testAccuracy },
      losses: [
        { name: "ce", term: exp.labelSmoothing > 0 ? `cross-entropy, label smoothing ${exp.labelSmoothing}` : "cross-entropy", weight: 1, lastEpochMean: last.terms.ce ?? NaN },
        ...exp.method.losses.map((l, i) => ({ name: names[i]!, term: showLoss(l), weight: l.weight, lastEpochMean: last.terms[names[i]!] ?? NaN })),
      ],
      representation,
      timings: {
        trainSeconds: history.reduce((s, h) => s + h.seconds, 0), medianStepMs: median(stepTimes), testSeconds: (performance.now() - testStarted) / 1000,
        trainImagesPerSecond: trainedImages / (stepTimes.reduce((a, b) => a + b, 0) / 1000),
        reconfigureSeconds: history.reduce((s, h) => s + (h.reconfigureSeconds ?? 0), 0),
      },
      memory: { peakRssBytes: process.resourceUsage().maxRSS * 1024, wasmHeapBytes: wasmHeapBytes() },
      plans: Object.fromEntries(program.plans),
      preludes,
      reconfigurations,
      history,
      ...(data.decodeSeconds === undefined ? {} : { images: { decodeSeconds: data.decodeSeconds, cache: data.cache!, skipped: data.skipped ?? [] } }),
      experiment: ExperimentCodec.encode(exp),
    };
    yield* writeOutputs(program, exp, result, files, cycle, backbone.timm);
    return result;
  });

const writeOutputs = (program: Program, exp: Experiment, result: RunResult, files: ReturnType<typeof outputFiles>, cycle: Pick<Cycle, "action" | "units"> | null, timm: Backbone["timm"]) =>
  Effect.gen(function* () {
    const adapter = yield* Effect.promise(() => adapterBytes(program, exp.backbone.head, result.preludes));
    const merged = yield* Effect.promise(() => mergedBackbone(program));
    yield* io(files.result, () => {
      writeFileAtomic(files.adapter, adapter);
      writeFileAtomic(files.merged, backboneBytes(merged, { source: `peft-dsl merge of ${exp.name}` }));
      // timm's config beside it: timm.create_model(architecture, pretrained=True, pretrained_cfg_overlay=dict(file=merged.safetensors), **model_args).
      // A merged AdaptFormer keeps modules timm's VisionTransformer does not have: no config.json then.
      if (!(merged.config.mlpAdapters ?? []).some((b) => b > 0)) writeFileAtomic(files.timmConfig, `${JSON.stringify(timmHubConfig(merged.config, timm?.architecture, timm?.pretrainedCfg), null, 2)}\n`);
      if (cycle !== null && result.reconfigurations.length > 0) {
        writeFileAtomic(files.heatmap, configurationHeatmap({
          records: result.reconfigurations, epochEnds: result.history.map((h) => h.steps), units: cycle.units, retain: cycle.action.retain,
        }));
      }
      writeFileAtomic(files.result, `${JSON.stringify(result, null, 2)}\n`);
      rmSync(files.checkpoint, { force: true });
    });
  });


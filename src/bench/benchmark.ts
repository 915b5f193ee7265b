import * as tf from "@tensorflow/tfjs-core";
import { combine, type Method } from "../dsl/method.js";
import { adaptFormer, baft, daf, fourierFT, linearProbe, lora, rift, rlrr, s2ft } from "../methods/index.js";
import { compile, type Program } from "../interpreters/compile/program.js";
import { trainer } from "../interpreters/compile/trainer.js";
import { isPrelude, runPrelude } from "../interpreters/rules/prelude.js";
import { candidateUnits, reconfigureRule } from "../interpreters/rules/units.js";
import { compileConfiguration } from "../interpreters/rules/configuration.js";
import { reconfigureCycle } from "../interpreters/rules/reconfigure.js";
import { emptyConfiguration } from "../interpreters/rules/decide.js";
import { randomVit } from "../models/randomVit.js";
import { vitB16, type VitConfig } from "../models/vitConfig.js";
import { inMemory, type InMemoryDataset } from "../data/dataset.js";
import { rng } from "../util/random.js";
import { countGpuWork, type GpuWork } from "./gpuWork.js";
import { affineKernel } from "../ops/affine.js";
import { attentionGradKernel, attentionKernel } from "../ops/attention.js";

/** The benchmark configuration: batch 16, 32×32×3, patch 4 (64 tokens + CLS), width 192, depth 2, 3 heads, MLP 768, 10 classes. */
export const benchConfig: VitConfig = {
  image: 32,
  channels: 3,
  patch: 4,
  width: 192,
  depth: 2,
  heads: 3,
  mlpRatio: 4,
  classes: 10,
  layerNormEps: 1e-6,
  gelu: "erf",
};
export const benchBatch = 16;

export const benchMethods: Readonly<Record<string, Method>> = {
  "head only (frozen backbone)": linearProbe(),
  LoRA: combine(lora(), linearProbe()),
  FourierFT: combine(fourierFT(), linearProbe()),
  "S²FT": combine(s2ft(), linearProbe()),
  RLRR: combine(rlrr(), linearProbe()),
  AdaptFormer: combine(adaptFormer(), linearProbe()),
  "LoRA+BAFT": combine(lora(), linearProbe(), baft()),
  "LoRA+RIFT": combine(lora(), linearProbe(), rift()),
  "DAF (amortised)": combine(daf(), linearProbe()),
};

/** A benchmark scale: the ViT, the batch, the steps, and which methods it times. */
export interface BenchPreset {
  readonly config: VitConfig;
  readonly batch: number;
  /** Steps before timing: V8 compiles our kernels' wasm and tfjs's JavaScript in tiers, and the first steps run the slower ones (small: ~58 ms a LoRA step after 10, ~40 after 40). */
  readonly warmup: number;
  readonly steps: number;
  /** Gradient accumulation over micro-batches of this many images (a batch that would not fit wasm's heap in one pass). */
  readonly microBatch?: number;
  /** Method names of `benchMethods` (LoRA always: every ratio is to it); absent: all. */
  readonly methods?: readonly string[];
}

export const presets: Readonly<Record<string, BenchPreset>> = {
  small: { config: benchConfig, batch: benchBatch, warmup: 40, steps: 20 },
  // The papers' backbone: ViT-B/16 at 224, LoRA r8 on q, v + head, batch 8 in micro-batches of 2 (batch 3 is the most one pass holds on wasm32).
  "vit-b16": { config: { ...vitB16, classes: 10 }, batch: 8, warmup: 2, steps: 3, microBatch: 2, methods: ["LoRA"] },
};

export interface MethodTiming {
  readonly method: string;
  readonly medianMs: number;
  /** Matrix-multiply FLOPs of one train step (forward and backward), counted from the kernels it ran. */
  readonly flops: number;
  readonly gflops: number;
  /** Achieved GFLOP/s over the backend's own 2-D matmul GFLOP/s. */
  readonly roofline: number;
  readonly vsLora: number;
  readonly peakBytes: number;
  readonly tensorsFlat: boolean;
  /** One-off work outside the step (a prelude, DAF's cycle), in seconds. */
  readonly oneOffSeconds?: number;
  /** On webgpu: one step's dispatches and host-made tensor uploads. */
  readonly gpuWork?: GpuWork;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const randomData = (c: VitConfig, count: number, seed: number): InMemoryDataset => {
  const r = rng(seed, "bench");
  const images = Float32Array.from({ length: count * c.image * c.image * c.channels }, () => r.normal());
  return inMemory(
    images,
    Int32Array.from({ length: count }, () => r.int(c.classes)),
    [c.image, c.image, c.channels],
  );
};

/**
 * GFLOP/s of a plain 2-D matmul of `n`² by `n`² on the current backend: the kernel's own time
 * where the backend reports one (wasm: the sgemm alone, not the read of its result), else the
 * wall time to the result on the host.
 */
export const matmulGflops = async (n = 1024, reps = 8): Promise<number> => {
  const [a, b] = [tf.randomNormal([n, n]), tf.randomNormal([n, n])];
  tf.matMul(a, b).dispose();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) {
    let c: tf.Tensor | undefined;
    const t0 = performance.now();
    const { kernelMs } = await tf.time(() => {
      c = tf.matMul(a, b);
    });
    await c!.data();
    times.push(typeof kernelMs === "number" && kernelMs > 0 ? kernelMs : performance.now() - t0);
    c!.dispose();
  }
  tf.dispose([a, b]);
  return (2 * n ** 3) / (median(times) * 1e6);
};

type KernelShapes = { name: string; inputShapes: number[][]; outputShapes: number[][] };

/** 2 m n k of one product: a's matrix holds m × inner elements, transposed or not. */
const productFlops = (a: readonly number[], out: readonly number[]) => 2 * out.reduce((p, d) => p * d, 1) * ((a.at(-1)! * a.at(-2)!) / out.at(-2)!);

const matmulFlops = (kernels: readonly KernelShapes[]): number =>
  kernels.reduce((sum, k) => {
    if (k.name === "MatMul" || k.name === "BatchMatMul" || k.name === "_FusedMatMul") return sum + productFlops(k.inputShapes[0]!, k.outputShapes[0]!);
    if (k.name === attentionKernel || k.name === attentionGradKernel) {
      // Per image and head: q kᵀ and P v forward (2 t² d multiply-adds), four such products backward.
      const [items, t] = (k.name === attentionKernel ? k.outputShapes[1] : k.inputShapes[1])!;
      const [rows, width] = k.inputShapes[0]!;
      const d = ((width! / 3) * (rows! / t!)) / items!;
      return sum + (k.name === attentionKernel ? 2 : 4) * 2 * items! * t! * t! * d;
    }
    if (k.name !== affineKernel) return sum;
    // x, W, the bias if any (rank 1), then each placed product's left [m, r] and right [cols, r].
    const [x, , ...rest] = k.inputShapes;
    const factors = rest.filter((s) => s.length === 2);
    let flops = productFlops(x!, k.outputShapes[0]!);
    for (let i = 0; i < factors.length; i += 2) flops += 2 * factors[i]![0]! * factors[i]![1]! * factors[i + 1]![0]!;
    return sum + flops;
  }, 0);

/** A method ready to step: its program (after its preludes, or one DAF cycle) on a fixed random batch. */
const prepare = async (name: string, m: Method, preset: BenchPreset) => {
  const { config, batch } = preset;
  const backbone = randomVit(config, 0);
  const data = randomData(config, Math.max(64, 4 * batch), 1);
  let oneOff = 0;
  let program: Program;
  const dynamic = reconfigureRule(m);
  if (dynamic !== null) {
    const units = candidateUnits(dynamic.rule.action, config);
    const first = compileConfiguration(m, dynamic.rule.action, units, emptyConfiguration, backbone, 0);
    const t0 = performance.now();
    const cycle = { method: m, action: { ...dynamic.rule.action, batches: 4 }, units, backbone, train: data, batchSize: batch, seed: 0 };
    program = (await reconfigureCycle(cycle, first, undefined, { epoch: 0, step: 0 })).program;
    // Amortised over a cycle's steps; M = 4 analysis batches here, scaled to the rule's M.
    oneOff = ((performance.now() - t0) / 1000) * (dynamic.rule.action.batches / 4);
    first.dispose();
  } else {
    program = compile(m, backbone, { seed: 0 });
    const t0 = performance.now();
    for (const rule of m.rules.filter(isPrelude)) program.setValues((await runPrelude(rule, program, backbone, data, batch)).values);
    if (m.rules.length > 0) oneOff = (performance.now() - t0) / 1000;
  }
  const train = trainer(program, {
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 1e-4,
    ...(preset.microBatch === undefined ? {} : { microBatch: preset.microBatch }),
  });
  const size = config.image * config.image * config.channels;
  const images = tf.tensor4d(data.images.subarray(0, batch * size), [batch, config.image, config.image, config.channels]);
  const labels = tf.tensor1d(data.labels.subarray(0, batch), "int32");
  const step = () => train.step(images, labels, 1e-4);
  const dispose = () => {
    tf.dispose([images, labels]);
    train.dispose();
    program.dispose();
  };
  try {
    for (let i = 0; i < preset.warmup; i++) await step();
  } catch (e) {
    dispose();
    throw e;
  }
  return { name, step, oneOff, amortised: dynamic !== null, times: [] as number[], dispose };
};

/**
 * The benchmark on the current backend: every method's step, its FLOPs, and ratios to the matmul
 * roofline and to LoRA. The methods' steps are interleaved round by round, so the machine's
 * drift over minutes falls on all of them alike and the ratios to LoRA hold within one run.
 */
export const benchmark = async (
  preset: BenchPreset,
  log: (line: string) => void = () => {},
  only: readonly string[] = [],
): Promise<{ matmulGflops: number; methods: MethodTiming[]; unsupported: { method: string; reason: string }[] }> => {
  const roof = await matmulGflops();
  log(`2-D matmul: ${roof.toFixed(1)} GFLOP/s`);
  // LoRA is always timed: every ratio is to it.
  const ready: Awaited<ReturnType<typeof prepare>>[] = [];
  // A method this backend cannot run (RIFT's host read on WebGPU) is reported, not timed.
  const unsupported: { method: string; reason: string }[] = [];
  const wanted = only.length > 0 ? only : (preset.methods ?? []);
  for (const [n, m] of Object.entries(benchMethods)) {
    if (wanted.length > 0 && n !== "LoRA" && !wanted.includes(n)) continue;
    try {
      ready.push(await prepare(n, m, preset));
    } catch (e) {
      unsupported.push({ method: n, reason: (e as Error).message });
      log(`${n}: not run (${(e as Error).message})`);
    }
  }
  const before = tf.memory().numTensors;
  for (let round = 0; round < preset.steps; round++) {
    for (const r of ready) {
      const t0 = performance.now();
      await r.step();
      r.times.push(performance.now() - t0);
    }
  }
  const tensorsFlat = tf.memory().numTensors === before;
  const timings: Omit<MethodTiming, "vsLora" | "roofline">[] = [];
  for (const r of ready) {
    const profile = await tf.profile(async () => {
      await r.step();
    });
    const gpuWork = await countGpuWork(r.step);
    r.dispose();
    // DAF's cycle is amortised over 10 epochs of 800 images at the preset's batch.
    const medianMs = median(r.times) + (r.amortised ? (r.oneOff * 1000) / ((10 * 800) / preset.batch) : 0);
    const flops = matmulFlops(profile.kernels as never);
    log(`${r.name}: ${medianMs.toFixed(1)} ms/step`);
    timings.push({
      method: r.name,
      medianMs,
      flops,
      gflops: flops / (medianMs * 1e6),
      peakBytes: profile.peakBytes,
      tensorsFlat,
      ...(r.oneOff > 0 ? { oneOffSeconds: r.oneOff } : {}),
      ...(gpuWork === null ? {} : { gpuWork }),
    });
  }
  const lora = timings.find((t) => t.method === "LoRA")!.medianMs;
  return { matmulGflops: roof, methods: timings.map((t) => ({ ...t, roofline: t.gflops / roof, vsLora: t.medianMs / lora })), unsupported };
};

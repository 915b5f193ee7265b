import * as tf from "@tensorflow/tfjs-core";
import { hostCopy } from "../../util/hostRead.js";
import type { Method } from "../../dsl/method.js";
import type { Backbone } from "../../models/backbone.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { vitParams, type ParamSpec } from "../../models/vitParams.js";
import { vitForward, type VitAccess, type VitOutput } from "../../models/vit.js";
import { frozenLinear, linear, rowsTrainedLinear, type FrozenLinear } from "../../ops/linear.js";
import { initialValue, type AdapterParam, type AdapterValue } from "../adapterParams.js";
import type { Placement } from "../resolve.js";
import { resolve, type Resolved } from "../resolved.js";
import type { Mask } from "../partition.js";
import { MethodError } from "../methodError.js";
import {
  besideOutput,
  delta,
  fastProduct,
  foldedModule,
  placedLeaf,
  replacement,
  scaleShiftColumns,
  type FoldedModule,
  type Lookup,
  type PlacedLeaf,
} from "./placedLeaf.js";
import { hasFastPath, isModule, kindOf } from "../leaves.js";
import { placeBlocks } from "../../ops/placeBlocks.js";
import { lossParams, lossTermValue, readLossTermsAhead, type LossParam } from "./lossTerms.js";

/** A Method compiled against a backbone: tfjs tensors, a trainability mask, and a forward pass. */
export interface Program {
  readonly config: VitConfig;
  readonly method: Method;
  readonly placements: readonly Placement[];
  readonly params: readonly AdapterParam[];
  /** Every adapter tensor as a tfjs variable. */
  readonly variables: ReadonlyMap<string, tf.Variable>;
  /** Which adapter tensors train (the varList of the optimiser). */
  readonly mask: Mask;
  /** How each adapted linear runs (fast path or materialised ΔW), for `describe` and logs. */
  readonly plans: ReadonlyMap<string, "fast" | "materialised">;
  /** The adapted model's forward pass (call inside tf.tidy); `keep`: stochastic depth in training (see `vitForward`). */
  readonly forward: (images: tf.Tensor4D, keep?: tf.Tensor2D) => VitOutput;
  /** Parameter `name` with every transform folded in, in timm's shape (call inside tf.tidy). */
  readonly materialise: (name: string) => tf.Tensor;
  /** The modules the method adds beside block `block`'s MLP, scale folded into up (call inside tf.tidy). */
  readonly modulesBeside: (block: number) => FoldedModule[];
  /** The pretrained backbone's forward pass on the same images: no method, no gradient (call inside tf.tidy). */
  readonly pretrainedForward: (images: tf.Tensor4D) => VitOutput;
  /** Tensors the method's loss terms own (RIFT's rotation and statistics); they are in `variables` too. */
  readonly lossParams: readonly LossParam[];
  /** The unweighted value of the method's loss term `index` on a batch whose adapted forward is `out` (call inside tf.tidy). */
  readonly lossTerm: (index: number, out: VitOutput, images: tf.Tensor4D) => tf.Scalar;
  /** Host reads the loss terms need, done before a step so that the step reads nothing synchronously. */
  readonly readAhead: () => Promise<void>;
  /** Host copies of the adapter tensors (int32 for index state such as spectral positions). */
  readonly values: () => Promise<Map<string, AdapterValue>>;
  /** Overwrite adapter tensors (a loaded adapter, random law values, a checkpoint). */
  readonly setValues: (values: ReadonlyMap<string, AdapterValue>) => void;
  readonly dispose: () => void;
}

/** The [dout, din] view of a linear weight (the patch kernel [w, c, p, p] becomes [w, c·p·p]). */
const viewShape = (p: ParamSpec): number[] =>
  p.name.endsWith(".weight") && p.shape.length >= 2 ? [p.shape[0]!, p.shape.slice(1).reduce((a, b) => a * b, 1)] : [...p.shape];

const hostTensor = (data: AdapterValue, shape: readonly number[]): tf.Tensor => tf.tensor(data, [...shape], data instanceof Int32Array ? "int32" : "float32");

/** y + b, or y when the linear has no bias (timm's qkv_bias=False, a pre-norm patch projection). */
const withBias = (y: tf.Tensor2D, bias: tf.Tensor | undefined): tf.Tensor2D => (bias === undefined ? y : tf.add(y, bias));

export interface CompileOptions {
  /** Seed of the adapters' initial values. */
  readonly seed: number;
  /** Sites whose tensors are kept in the forward pass but do not train (DAF's dropped modules). */
  readonly frozenSites?: ReadonlySet<string>;
}

/** The backbone's tensors in their [dout, din] views, kept for the program's life. */
const baseViews = (backbone: Backbone, specs: ReadonlyMap<string, ParamSpec>): Map<string, tf.Tensor> => {
  const base = new Map<string, tf.Tensor>();
  for (const [name, spec] of specs) {
    const w = backbone.weights.get(name);
    if (!w) throw new MethodError("backbone", `missing weight ${name}`);
    base.set(name, tf.keep(tf.tensor(w.data, viewShape(spec))));
  }
  return base;
};

/** Every adapter and loss-term tensor as a variable at its initial value, and the mask of those that train. */
const adapterState = (method: Method, params: readonly AdapterParam[], backbone: Backbone, options: CompileOptions) => {
  const lossState = lossParams(method.losses, backbone.config);
  const trains = (p: AdapterParam) => p.trainable && !(options.frozenSites?.has(p.placement.site.name) ?? false);
  const variables = new Map([
    ...params.map((p) => [p.name, tf.tidy(() => tf.variable(hostTensor(initialValue(p, backbone.weights, options.seed), p.shape), trains(p)))] as const),
    ...lossState.map((p) => [p.name, tf.tidy(() => tf.variable(tf.zeros([...p.shape]), p.trainable))] as const),
  ]);
  const mask: Mask = new Map([...params.map((p) => [p.name, trains(p)] as const), ...lossState.map((p) => [p.name, p.trainable] as const)]);
  return { lossState, variables, mask };
};

/** Weight leaves fold into their parameter; module leaves (adapters) run beside the MLP of their block. */
const wiring = (resolved: Resolved) => {
  const leavesByParam = new Map<string, PlacedLeaf[]>();
  const modulesByBlock = new Map<number, PlacedLeaf[]>();
  for (const pl of resolved.leaves.map(placedLeaf)) {
    const { param, block } = pl.placement.site;
    if (isModule(pl.leaf)) modulesByBlock.set(block!, [...(modulesByBlock.get(block!) ?? []), pl]);
    else leavesByParam.set(param, [...(leavesByParam.get(param) ?? []), pl]);
  }
  return { leavesByParam, modulesByBlock };
};

/**
 * A parameter's value with every leaf folded in: `full` regions replaced, then Σ ΔW of the
 * additive leaves, then the module's SSF on top — W' = γ ⊙ W row-wise, b' = γ ⊙ b + β — in
 * placement order (call inside tf.tidy).
 */
const assembler = (base: ReadonlyMap<string, tf.Tensor>, leavesByParam: ReadonlyMap<string, readonly PlacedLeaf[]>, lookup: Lookup) => {
  /** W' = (W with `full` regions replaced) + Σ ΔW of additive leaves, in the [dout, din] view. */
  const assemble = (name: string): tf.Tensor => {
    const view = base.get(name)!;
    const pls = leavesByParam.get(name) ?? [];
    const fulls = pls.map((pl) => ({ pl, value: replacement(pl, lookup) })).filter((f) => f.value !== null);
    let w: tf.Tensor = view;
    const whole = fulls.find((f) => f.pl.placement.site.rows === null);
    if (whole) w = whole.value!;
    else if (fulls.length > 0) {
      const rows = view.shape[0]!;
      const cols = view.shape[1]!;
      const blocks = fulls.map((f) => ({ range: f.pl.placement.site.rows, value: f.value as tf.Tensor2D }));
      const covered = fulls.map((f) => f.pl.placement.site.rows!).sort((a, b) => a[0] - b[0]);
      let at = 0;
      for (const [s, e] of [...covered, [rows, rows] as const]) {
        if (s > at) blocks.push({ range: [at, s], value: tf.slice(view as tf.Tensor2D, [at, 0], [s - at, cols]) });
        at = Math.max(at, e);
      }
      w = placeBlocks(blocks, rows, 0, cols);
    }
    const deltas = pls.flatMap((pl) => {
      const { rows } = pl.placement.site;
      const d = delta(pl, lookup, () => (rows === null ? view : tf.slice(view, [rows[0], 0], [rows[1] - rows[0], view.shape[1]!])) as tf.Tensor2D);
      return d === null ? [] : [{ range: pl.placement.site.rows, value: d }];
    });
    return deltas.length === 0 ? w : tf.add(w, placeBlocks(deltas, view.shape[0]!, 0, view.shape[1]!));
  };

  return (name: string): tf.Tensor => {
    let t = leavesByParam.has(name) ? assemble(name) : base.get(name)!;
    const module = name.replace(/\.(weight|bias)$/, "");
    const ssf = (leavesByParam.get(`${module}.weight`) ?? []).filter((pl) => kindOf(pl.leaf) === "outputScale");
    if (ssf.length === 0 || module === name) return t;
    const shape = t.shape;
    const total = base.get(`${module}.weight`)!.shape[0]!;
    for (const pl of ssf) {
      const { scale, shift } = scaleShiftColumns(pl, lookup, total);
      const rows = tf.mul(tf.reshape(t, [total, -1]), scale);
      t = name.endsWith(".bias") ? tf.add(rows, shift) : rows;
    }
    return tf.reshape(t, shape);
  };
};

/**
 * How each adapted linear runs: "fast" when every leaf has a fast path, else "materialised",
 * whose linear computes a weight gradient only on the rows its leaves touch (merged, in order),
 * or on the whole weight when one covers it.
 */
const linearPlans = (leavesByParam: ReadonlyMap<string, readonly PlacedLeaf[]>, specs: ReadonlyMap<string, ParamSpec>) => {
  const plans = new Map<string, "fast" | "materialised">();
  for (const [param, pls] of leavesByParam) {
    if (!param.endsWith(".weight") || viewShape(specs.get(param)!).length !== 2) continue;
    plans.set(param, pls.every((pl) => hasFastPath(pl.leaf)) ? "fast" : "materialised");
  }
  const materialisedLinear = new Map<string, typeof linear>();
  for (const [param, plan] of plans) {
    if (plan !== "materialised") continue;
    const sites = leavesByParam.get(param)!.map((pl) => pl.placement.site.rows);
    if (sites.some((r) => r === null)) {
      materialisedLinear.set(param, linear);
      continue;
    }
    const merged: [number, number][] = [];
    for (const [from, to] of [...(sites as (readonly [number, number])[])].sort((a, b) => a[0] - b[0])) {
      const last = merged.at(-1);
      if (last !== undefined && from <= last[1]) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    materialisedLinear.set(param, rowsTrainedLinear(merged));
  }
  return { plans, materialisedLinear };
};

/** A Method compiled against a backbone (resolved on the way). */
export const compile = (method: Method, backbone: Backbone, options: CompileOptions): Program =>
  compileResolved(resolve(method, backbone.config), backbone, options);

/** A method already resolved against this backbone's config, compiled. */
export const compileResolved = (resolved: Resolved, backbone: Backbone, options: CompileOptions): Program => {
  const { config } = backbone;
  if (JSON.stringify(resolved.config) !== JSON.stringify(config)) throw new Error("compileResolved: the method was resolved against another backbone config");
  const { method, placements, params } = resolved;
  const specs = new Map(vitParams(config).map((p) => [p.name, p]));
  const base = baseViews(backbone, specs);
  const { lossState, variables, mask } = adapterState(method, params, backbone, options);
  const { leavesByParam, modulesByBlock } = wiring(resolved);
  const lookup: Lookup = (name) => variables.get(name)!;
  const frozen = new Map<string, FrozenLinear>();
  const frozenOf = (name: string): FrozenLinear => {
    let f = frozen.get(name);
    if (!f) {
      f = frozenLinear(base.get(name)! as tf.Tensor2D);
      frozen.set(name, f);
    }
    return f;
  };
  const finalValue = assembler(base, leavesByParam, lookup);
  const { plans, materialisedLinear } = linearPlans(leavesByParam, specs);

  /** The backbone as loaded: every linear frozen, nothing beside the MLP but a merged module it keeps. */
  const pretrainedAccess: VitAccess = {
    tensor: (name) => base.get(name)!,
    linear: (module, x) => frozenOf(`${module}.weight`).apply(x, base.get(`${module}.bias`)),
    besideMlp: () => null,
  };
  const pretrainedForward = (images: tf.Tensor4D) => vitForward(config, pretrainedAccess, images);

  /** Backbone tensors whose value a method changes: every parameter with weight leaves, and the bias an SSF rescales. */
  const adaptedNames = [
    ...new Set(
      [...leavesByParam.entries()].flatMap(([name, pls]) =>
        pls.some((pl) => kindOf(pl.leaf) === "outputScale") ? [name, name.replace(/\.weight$/, ".bias")] : [name],
      ),
    ),
  ];

  const access = (): VitAccess => {
    const memo = new Map<string, tf.Tensor>();
    const effective = (name: string): tf.Tensor => {
      let t = memo.get(name);
      if (!t) {
        t = finalValue(name);
        memo.set(name, t);
      }
      return t;
    };
    return {
      tensor: effective,
      linear: (module, x) => {
        const [w, b] = [`${module}.weight`, `${module}.bias`];
        const pls = leavesByParam.get(w);
        // A bias no method changes goes into the product's kernel; a trained one is added after.
        const [frozenBias, trainedBias] = !specs.has(b)
          ? [undefined, undefined]
          : adaptedNames.includes(b)
            ? [undefined, effective(b)]
            : [base.get(b)!, undefined];
        let y: tf.Tensor2D;
        if (!pls) y = frozenOf(w).apply(x, frozenBias);
        else if (plans.get(w) === "fast")
          y = frozenOf(w).apply(
            x,
            frozenBias,
            pls.map((pl) => fastProduct(pl, lookup, x)!),
          );
        else y = (materialisedLinear.get(w) ?? linear)(x, effective(w) as tf.Tensor2D, frozenBias);
        return withBias(y, trainedBias);
      },
      besideMlp: (block, x) => {
        const mods = modulesByBlock.get(block) ?? [];
        return mods.length === 0 ? null : mods.map((pl) => besideOutput(foldedModule(pl, lookup), x)).reduce((a, b) => tf.add(a, b));
      },
    };
  };

  return {
    config,
    method,
    placements,
    params,
    variables,
    mask,
    plans,
    forward: (images, keep) => vitForward(config, access(), images, keep),
    pretrainedForward,
    lossParams: lossState,
    lossTerm: (index, out, images) =>
      lossTermValue(method.losses[index]!, index, out, images, {
        config,
        lookup,
        pretrained: pretrainedForward,
        drift: () =>
          adaptedNames.length === 0 ? tf.scalar(0) : tf.addN(adaptedNames.map((name) => tf.sum(tf.square(tf.sub(finalValue(name), base.get(name)!))))),
      }),
    readAhead: () => readLossTermsAhead(method.losses, lookup),
    materialise: (name) => tf.reshape(finalValue(name), [...specs.get(name)!.shape]),
    modulesBeside: (block) => (modulesByBlock.get(block) ?? []).map((pl) => foldedModule(pl, lookup)),
    values: async () => new Map(await Promise.all([...variables].map(async ([k, v]) => [k, await hostCopy(v)] as const))),
    setValues: (values) => {
      for (const [k, data] of values) {
        const v = variables.get(k);
        if (!v) throw new MethodError("adapter", `unknown adapter tensor ${k}`);
        if (data.length !== v.size) throw new MethodError("adapter", `${k} has ${data.length} values, expected ${v.size} (shape ${JSON.stringify(v.shape)})`);
        if (data instanceof Int32Array !== (v.dtype === "int32")) throw new MethodError("adapter", `${k} must be ${v.dtype === "int32" ? "int32" : "float32"}`);
        tf.tidy(() => v.assign(hostTensor(data, v.shape)));
      }
    },
    dispose: () => {
      for (const t of base.values()) t.dispose();
      for (const v of variables.values()) v.dispose();
      for (const f of frozen.values()) f.dispose();
    },
  };
};

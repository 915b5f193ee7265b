import * as tf from "@tensorflow/tfjs-core";
import "../../ops/gradients.js";
import type { GradientEstimate } from "../../dsl/rule.js";
import { method, target } from "../../dsl/method.js";
import { glob } from "../../dsl/selector.js";
import { full } from "../../dsl/transform.js";
import type { Backbone, HostTensor } from "../../models/backbone.js";
import { epochBatches, type Batch, type Dataset } from "../../data/dataset.js";
import { nearestNeighbourTour, pathEnergy } from "../../ops/nearestNeighbourTour.js";
import { dft2MagnitudeHost } from "../../ops/hostFft.js";
import { rng } from "../../util/random.js";
import { weightedDistinct } from "../../util/weightedDistinct.js";
import { adapterName, type AdapterValue } from "../adapterParams.js";
import { compile, type Program } from "../compile/program.js";
import { programLoss } from "../compile/loss.js";
import { leaves, wrapperNodes } from "../leaves.js";
import { needsEstimate } from "../resolve.js";
import type { Site } from "../../models/vitParams.js";

/** What the estimate found at one site, kept in the adapter file as provenance. */
export interface SiteEstimate {
  readonly site: string;
  /** Σ‖x_{k+1} − x_k‖² along the rows (columns) in stored order vs in tour order (open path). */
  readonly rows?: { readonly identity: number; readonly tour: number };
  readonly cols?: { readonly identity: number; readonly tour: number };
  /** Share of the permuted pre-estimate's spectral energy at the drawn positions (a uniform draw expects n/(m·n)). */
  readonly positions?: { readonly count: number; readonly energyShare: number; readonly uniformShare: number };
}

export interface EstimateRecord {
  readonly rule: "once: gradientEstimate";
  readonly batches: number;
  readonly examples: number;
  /** The head the gradients flowed through: a reset (zero) head passes no gradient, so class means stand in. */
  readonly head: "class means" | "as given";
  readonly seconds: number;
  readonly sites: readonly SiteEstimate[];
}

/** Y[i, j] = X[rows[i], cols[j]]: T⁻¹ of a permutation, the frame in which the inner ΔW̄ lives. */
const unpermute = (x: Float64Array, m: number, n: number, rows: ArrayLike<number>, cols: ArrayLike<number>): Float64Array => {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) y[i * n + j] = x[rows[i]! * n + cols[j]!]!;
  return y;
};

const transpose = (x: Float64Array, m: number, n: number): Float64Array => {
  const y = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) y[j * m + i] = x[i * n + j]!;
  return y;
};

/** The head whose row c is the mean frozen feature of class c minus the overall mean (bias 0). */
const classMeanHead = (program: Program, backbone: Backbone, batches: readonly Batch[], shape: readonly number[]): Backbone => {
  const { width, classes } = backbone.config;
  const sums = new Float64Array(classes * width);
  const counts = new Float64Array(classes);
  const all = new Float64Array(width);
  for (const b of batches) {
    const f = tf.tidy(() => program.pretrainedForward(tf.tensor4d(b.images, [b.count, ...shape] as [number, number, number, number])).preLogits);
    const data = f.dataSync();
    f.dispose();
    for (let k = 0; k < b.count; k++) {
      const c = b.labels[k]!;
      counts[c]! += 1;
      for (let d = 0; d < width; d++) {
        sums[c * width + d]! += data[k * width + d]!;
        all[d]! += data[k * width + d]!;
      }
    }
  }
  const total = counts.reduce((a, b) => a + b, 0);
  const head = Float32Array.from({ length: classes * width }, (_, i) => {
    const c = Math.floor(i / width);
    return counts[c]! > 0 ? sums[i]! / counts[c]! - all[i % width]! / total : 0;
  });
  const weights = new Map<string, HostTensor>(backbone.weights);
  weights.set("head.weight", { shape: [classes, width], data: head });
  weights.set("head.bias", { shape: [classes], data: new Float32Array(classes) });
  return { config: backbone.config, weights };
};

/** Eq. 4: ΔŴ = −Σ ∇W L of the frozen model over the batches, per site in its [dout, din] view (float64). */
export const preEstimate = (backbone: Backbone, sites: readonly Site[], batches: readonly Batch[], shape: readonly number[]): Map<string, Float64Array> => {
  const probe = compile(method({ targets: sites.map((s) => target(glob(s.name), full)) }), backbone, { seed: 0 });
  const sums = new Map(sites.map((s) => [s.name, new Float64Array(s.shape[0]! * s.shape[1]!)]));
  try {
    const vars = probe.params.map((p) => ({ site: p.placement.site.name, v: probe.variables.get(p.name)! }));
    for (const b of batches) {
      const grads = tf.tidy(() => {
        const images = tf.tensor4d(b.images, [b.count, ...shape] as [number, number, number, number]);
        const { grads: g } = tf.variableGrads(() => programLoss(probe, images, tf.tensor1d(b.labels, "int32")).total, vars.map((x) => x.v));
        return vars.map((x) => tf.keep(g[x.v.name]!));
      });
      grads.forEach((g, i) => {
        const sum = sums.get(vars[i]!.site)!;
        const data = g.dataSync();
        for (let k = 0; k < sum.length; k++) sum[k]! -= data[k]!;
        g.dispose();
      });
    }
  } finally {
    probe.dispose();
  }
  return sums;
};

/**
 * Run S²FT's prelude on a compiled program: estimate ΔŴ, then set every tour (Alg. 1) and every
 * weighted position set (Eq. 7) the method declares. Returns the new state values and the record.
 */
export const gradientEstimate = (program: Program, backbone: Backbone, action: GradientEstimate, train: Dataset, batchSize: number): { values: Map<string, AdapterValue>; record: EstimateRecord } => {
  const started = performance.now();
  const placements = program.placements.filter((p) => needsEstimate(p.transform));
  const batches = epochBatches(train, batchSize, action.seed, -1).slice(0, action.batches);
  const headIsZero = [...backbone.weights.get("head.weight")!.data].every((x) => x === 0);
  const through = headIsZero ? classMeanHead(program, backbone, batches, train.shape) : backbone;
  const sites = [...new Map(placements.map((p) => [p.site.name, p.site])).values()];
  const estimates = preEstimate(through, sites, batches, train.shape);
  const values = program.values();
  const records = placements.map((p): SiteEstimate => {
    const [m, n] = p.site.shape as [number, number];
    const estimate = estimates.get(p.site.name)!;
    const state = (prefix: string, axis: "rows" | "cols") => values.get(adapterName(p, `${prefix}perm_${axis}`))!;
    // ΔŴ in the frame inside the given permutation nodes (outermost first): T⁻¹ applied node by node.
    const inside = (nodes: readonly { readonly prefix: string }[]) =>
      nodes.reduce((x, w) => unpermute(x, m, n, state(w.prefix, "rows"), state(w.prefix, "cols")), estimate);
    const nodes = wrapperNodes(p.transform);
    let record: SiteEstimate = { site: p.site.name };
    for (const w of nodes) {
      const x = inside(nodes.filter((outer) => w.prefix.startsWith(`${outer.prefix}permuted.`)));
      for (const axis of ["rows", "cols"] as const) {
        const init = w[axis];
        if (init._tag !== "Tour") continue;
        const [len, dim, data] = axis === "rows" ? [m, n, x] : [n, m, transpose(x, m, n)];
        const start = Math.floor(rng(init.seed, adapterName(p, `${w.prefix}perm_${axis}`)).uniform() * len);
        const tour = nearestNeighbourTour(data, len, dim, start);
        values.set(adapterName(p, `${w.prefix}perm_${axis}`), tour);
        const inOrder = Int32Array.from({ length: len }, (_, i) => i);
        record = { ...record, [axis]: { identity: pathEnergy(data, dim, inOrder, false), tour: pathEnergy(data, dim, tour, false) } };
      }
    }
    for (const leaf of leaves(p.transform)) {
      if (leaf._tag !== "Spectral" || leaf.positions._tag !== "Weighted") continue;
      const magnitude = dft2MagnitudeHost(inside(leaf.wrappers), m, n);
      const gamma = leaf.positions.gamma;
      const positions = weightedDistinct(magnitude.map((a) => a ** gamma), leaf.coefficients, rng(leaf.positions.seed, adapterName(p, `${leaf.prefix}positions`)));
      values.set(adapterName(p, `${leaf.prefix}positions`), positions);
      const energy = magnitude.reduce((s, a) => s + a * a, 0);
      const captured = [...positions].reduce((s, i) => s + magnitude[i]! ** 2, 0);
      record = { ...record, positions: { count: leaf.coefficients, energyShare: energy > 0 ? captured / energy : 0, uniformShare: leaf.coefficients / (m * n) } };
    }
    return record;
  });
  return {
    values,
    record: {
      rule: "once: gradientEstimate", batches: batches.length, examples: batches.reduce((s, b) => s + b.count, 0),
      head: headIsZero ? "class means" : "as given", seconds: (performance.now() - started) / 1000, sites: records,
    },
  };
};

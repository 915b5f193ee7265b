import type { GradientEstimate } from "../../dsl/rule.js";
import type { Backbone } from "../../models/backbone.js";
import { epochBatches, type Dataset } from "../../data/dataset.js";
import { nearestNeighbourTour, pathEnergy } from "../../ops/nearestNeighbourTour.js";
import { dft2MagnitudeHost } from "../../ops/hostFft.js";
import { radialEnergy } from "../../ops/radialSpectrum.js";
import { rng } from "../../util/random.js";
import { weightedDistinct } from "../../util/weightedDistinct.js";
import { adapterName, type AdapterValue } from "../adapterParams.js";
import type { Program } from "../compile/program.js";
import { classMeanHead, headIsZero, preEstimate } from "./backboneGradient.js";
import { leaves, wrapperNodes } from "../leaves.js";
import type { Counter } from "../../util/counter.js";
import { needsEstimate } from "../resolve.js";

/** What the estimate found at one site, kept in the adapter file as provenance. */
export interface SiteEstimate {
  readonly site: string;
  /** Σ‖x_{k+1} − x_k‖² along the rows (columns) in stored order vs in tour order (open path). */
  readonly rows?: { readonly identity: number; readonly tour: number };
  readonly cols?: { readonly identity: number; readonly tour: number };
  /** Share of the permuted pre-estimate's spectral energy at the drawn positions (a uniform draw expects n/(m·n)). */
  readonly positions?: { readonly count: number; readonly energyShare: number; readonly uniformShare: number };
  /** Energy share of ΔŴ's spectrum per radial frequency band (8 over [0, 0.5]), in stored order and inside the permutation. */
  readonly spectrum?: { readonly identity: readonly number[]; readonly permuted: readonly number[] };
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

/**
 * Run S²FT's prelude on a compiled program: estimate ΔŴ, then set every tour (Alg. 1) and every
 * weighted position set (Eq. 7) the method declares. Returns the new state values and the record.
 */
export const gradientEstimate = async (
  program: Program,
  backbone: Backbone,
  action: GradientEstimate,
  train: Dataset,
  batchSize: number,
  progress?: Counter,
): Promise<{ values: Map<string, AdapterValue>; record: EstimateRecord }> => {
  const started = performance.now();
  const placements = program.placements.filter((p) => needsEstimate(p.transform));
  const batches = epochBatches(train, batchSize, action.seed, -1, action.batches);
  const zeroHead = headIsZero(backbone);
  const through = zeroHead ? await classMeanHead(program, backbone, batches, train.shape) : backbone;
  const sites = [...new Map(placements.map((p) => [p.site.name, p.site])).values()];
  const estimates = await preEstimate(through, sites, batches, train.shape, progress);
  const values = await program.values();
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
      const node = leaf.node;
      if (node._tag !== "Spectral" || node.positions._tag !== "Weighted") continue;
      const magnitude = dft2MagnitudeHost(inside(leaf.wrappers), m, n);
      const gamma = node.positions.gamma;
      const positions = weightedDistinct(
        magnitude.map((a) => a ** gamma),
        node.coefficients,
        rng(node.positions.seed, adapterName(p, `${leaf.prefix}positions`)),
      );
      values.set(adapterName(p, `${leaf.prefix}positions`), positions);
      const energy = magnitude.reduce((s, a) => s + a * a, 0);
      const captured = [...positions].reduce((s, i) => s + magnitude[i]! ** 2, 0);
      record = {
        ...record,
        positions: { count: node.coefficients, energyShare: energy > 0 ? captured / energy : 0, uniformShare: node.coefficients / (m * n) },
        spectrum: { identity: radialEnergy(dft2MagnitudeHost(estimate, m, n), m, n), permuted: radialEnergy(magnitude, m, n) },
      };
    }
    return record;
  });
  return {
    values,
    record: {
      rule: "once: gradientEstimate",
      batches: batches.length,
      examples: batches.reduce((s, b) => s + b.count, 0),
      head: zeroHead ? "class means" : "as given",
      seconds: (performance.now() - started) / 1000,
      sites: records,
    },
  };
};

import type { Method } from "../../dsl/method.js";
import type { Weights } from "../../models/backbone.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { vitParams } from "../../models/vitParams.js";
import { adapterName, type AdapterValue } from "../adapterParams.js";
import { leaves } from "../leaves.js";
import type { Composition, Module64 } from "../../primitives/primitive.js";
import { resolveMethod } from "../resolve.js";
import type { Weights64 } from "./vit64.js";

/** The 1-bit quantiser in float64 (see ops/binarize.ts): mean + std·0.6745·sign(w − mean), z ≥ 0 positive. */
const binarize64 = (w: ArrayLike<number>): Float64Array => {
  const n = w.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += w[i]! / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (w[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  return Float64Array.from({ length: n }, (_, i) => mean + std * ((w[i]! - mean) / (std + 1e-5) >= 0 ? 0.6745 : -0.6745));
};

/**
 * The denotation of a method in float64: W' = W + Σ ΔW for every placed leaf, written
 * directly from the definitions (no fast paths, no FFT, no shared code with `compile`).
 */
export const adaptedWeights64 = (method: Method, config: VitConfig, base: Weights, adapter: ReadonlyMap<string, AdapterValue>): Weights64 => {
  const out = new Map<string, Float64Array>();
  for (const p of vitParams(config)) out.set(p.name, Float64Array.from(base.get(p.name)!.data));
  const placements = resolveMethod(method, config);
  // Replacements first (a `full` leaf sets its region), then every additive ΔW on top, then
  // SSF on the module's output: weight rows times γ, bias b ← γ·b + β.
  for (const pass of ["replace", "additive", "outputScale"] as const) {
    for (const pl of placements) {
      const target = out.get(pl.site.param)!;
      const dout = pl.site.shape[0]!;
      const din = pl.site.shape.length > 1 ? pl.site.shape[1]! : 1;
      // Where the site starts inside its parameter (q/k/v are row blocks of qkv).
      const row0 = pl.site.rows ? pl.site.rows[0] : 0;
      const offset = row0 * din;
      const value = (path: string): AdapterValue => {
        const v = adapter.get(adapterName(pl, path));
        if (!v) throw new Error(`reference: adapter value ${adapterName(pl, path)} is missing`);
        return v;
      };
      for (const leaf of leaves(pl.transform)) {
        const composition = leaf.primitive.composition as Composition<unknown>;
        if (composition.kind !== pass) continue;
        if (composition.kind === "outputScale") {
          const gamma = value(`${leaf.prefix}ssf_scale`);
          const beta = value(`${leaf.prefix}ssf_shift`);
          const bias = out.get(pl.site.param.replace(/\.weight$/, ".bias"))!;
          for (let i = 0; i < dout; i++) {
            for (let j = 0; j < din; j++) target[offset + i * din + j] = target[offset + i * din + j]! * gamma[i]!;
            bias[row0 + i] = bias[row0 + i]! * gamma[i]! + beta[i]!;
          }
          continue;
        }
        // Trainable tensors at 1 bit under `quantized`; positions and orders are used as stored.
        const specs = new Map(leaf.primitive.tensors(leaf.node, pl.site).map((spec) => [spec.role, spec]));
        const values = (role: string) => {
          const spec = specs.get(role);
          if (!spec) throw new Error(`reference: ${leaf.primitive.tag} has no tensor ${role}`);
          const v = value(`${leaf.prefix}${spec.path}`);
          return leaf.quantized && spec.trainable ? binarize64(v) : v;
        };
        if (composition.kind === "replace") {
          target.set(Float64Array.from(values("value")), offset);
          continue;
        }
        if (composition.kind !== "additive") continue;
        const pretrained = base.get(pl.site.param)!.data.subarray(offset, offset + dout * din);
        let d = composition.delta64(leaf.node, values, dout, din, pretrained);
        // Wrappers, innermost first: permuted sends entry (i, j) to (rows[i], cols[j]).
        for (const w of [...leaf.wrappers].reverse()) {
          const rows = value(`${w.prefix}perm_rows`);
          const cols = value(`${w.prefix}perm_cols`);
          const moved = new Float64Array(dout * din);
          for (let i = 0; i < dout; i++) for (let j = 0; j < din; j++) moved[rows[i]! * din + cols[j]!] = d[i * din + j]!;
          d = moved;
        }
        for (let i = 0; i < dout * din; i++) target[offset + i]! += d[i]!;
      }
    }
  }
  return out;
};

/** The modules a method adds beside each block's MLP, from the adapter values (1 bit under `quantized`). */
export const addedModules64 = (method: Method, config: VitConfig, adapter: ReadonlyMap<string, AdapterValue>): ((block: number) => Module64[]) => {
  const modules = resolveMethod(method, config).flatMap((pl) =>
    leaves(pl.transform).flatMap((leaf) => {
      const composition = leaf.primitive.composition as Composition<unknown>;
      if (composition.kind !== "module") return [];
      const paths = new Map(leaf.primitive.tensors(leaf.node, pl.site).map((spec) => [spec.role, spec.path]));
      const values = (role: string): ArrayLike<number> | null => {
        const path = paths.get(role);
        const v = path === undefined ? undefined : adapter.get(adapterName(pl, `${leaf.prefix}${path}`));
        return v === undefined ? null : leaf.quantized ? binarize64(v) : v;
      };
      const m: Module64 = composition.module64(leaf.node, values);
      return [{ block: pl.site.block!, m }];
    }),
  );
  return (block) => modules.filter((x) => x.block === block).map((x) => x.m);
};

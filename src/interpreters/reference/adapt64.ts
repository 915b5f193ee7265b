import type { Method } from "../../dsl/method.js";
import type { Weights } from "../../models/backbone.js";
import type { VitConfig } from "../../models/vitConfig.js";
import { vitParams } from "../../models/vitParams.js";
import { adapterName, type AdapterValue } from "../adapterParams.js";
import { leaves } from "../leaves.js";
import { resolveMethod } from "../resolve.js";
import type { Weights64 } from "./vit64.js";

/**
 * The denotation of a method in float64: W' = W + Σ ΔW for every placed leaf, written
 * directly from the definitions (no fast paths, no shared code with `compile`).
 */
export const adaptedWeights64 = (
  method: Method, config: VitConfig, base: Weights, adapter: ReadonlyMap<string, AdapterValue>,
): Weights64 => {
  const out = new Map<string, Float64Array>();
  for (const p of vitParams(config)) out.set(p.name, Float64Array.from(base.get(p.name)!.data));
  const value = (name: string): AdapterValue => {
    const v = adapter.get(name);
    if (!v) throw new Error(`reference: adapter value ${name} is missing`);
    return v;
  };
  const placements = resolveMethod(method, config);
  // Replacements first (a `full` leaf sets its region), then every additive ΔW on top.
  for (const pass of ["Full", "Additive"] as const) {
    for (const pl of placements) {
      const target = out.get(pl.site.param)!;
      const [dout, din] = pl.site.shape as [number, number];
      const row0 = pl.site.rows?.[0] ?? 0;
      for (const leaf of leaves(pl.transform)) {
        if ((leaf._tag === "Full") !== (pass === "Full")) continue;
        const name = (path: string) => adapterName(pl, `${leaf.prefix}${path}`);
        if (leaf._tag === "Full") {
          const v = value(name("value"));
          target.set(Float64Array.from(v), pl.site.rows ? row0 * din : 0);
        } else if (leaf._tag === "Spectral") {
          // ΔW[j,k] = α/(m·n) Σ_i c_i cos(2π(u_i j/m + v_i k/n)), position p_i = u_i·n + v_i: the definition, term by term.
          const c = value(name("spectrum"));
          const positions = value(name("positions"));
          for (let i = 0; i < positions.length; i++) {
            const u = Math.floor(positions[i]! / din);
            const v = positions[i]! % din;
            for (let j = 0; j < dout; j++) {
              for (let k = 0; k < din; k++) {
                target[(row0 + j) * din + k]! += (leaf.scale * c[i]! * Math.cos(2 * Math.PI * ((u * j) / dout + (v * k) / din))) / (dout * din);
              }
            }
          }
        } else {
          const A = value(name("lora_A"));
          const B = value(name("lora_B"));
          const r = leaf.rank;
          for (let o = 0; o < dout; o++) {
            for (let i = 0; i < din; i++) {
              let s = 0;
              for (let k = 0; k < r; k++) s += B[o * r + k]! * A[k * din + i]!;
              target[(row0 + o) * din + i]! += leaf.scale * s;
            }
          }
        }
      }
    }
  }
  return out;
};


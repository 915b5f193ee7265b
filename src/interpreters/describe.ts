import type { Method } from "../dsl/method.js";
import { showSelector } from "../dsl/selector.js";
import { showTransform, type PermutationInit, type WeightTransform } from "../dsl/transform.js";
import { showRule } from "../dsl/rule.js";
import type { VitConfig } from "../models/vitConfig.js";
import { countResolved, countTransform, type CountReport } from "./count.js";
import { showLoss } from "../dsl/loss.js";
import { lossKindOf } from "../losses/registry.js";
import { hasFastPath, isModule, leaves } from "./leaves.js";
import { resolve } from "./resolved.js";
import { isPrimitive, primitiveOf } from "../primitives/registry.js";

const n = (x: number) => x.toLocaleString("en-US");

const order = (p: PermutationInit): string =>
  p._tag === "Identity" ? "in order" : p._tag === "Random" ? `permuted, seed ${p.seed}` : "in nearest-neighbour tour order of ΔŴ";

/** ΔW of a transform written as math, in timm's [dout, din] layout. */
const formula = (t: WeightTransform): string => {
  if (isPrimitive(t)) return primitiveOf(t).formula(t);
  switch (t._tag) {
    case "Frozen":
      return "ΔW = 0";
    case "Sum":
      return t.terms.map(formula).join("  +  ");
    case "Quantized":
      return `${formula(t.inner)}, every trainable tensor T used as Q(T) = mean + std·0.6745·sign(T − mean) (1 bit, straight-through gradient)`;
    case "Permuted":
      return `ΔW = Prᵀ·ΔW̄·Pc (rows ${order(t.rows)}, columns ${order(t.cols)}), where ${formula(t.inner).replace(/ΔW/g, "ΔW̄")}`;
  }
};

/** The totals line, like HF PEFT's print_trainable_parameters (auxiliary tensors named when there are any). */
export const totals = (r: CountReport): string =>
  `trainable params: ${n(r.trainable)} || backbone params: ${n(r.backbone)} || trainable%: ${r.percent.toFixed(4)}${r.auxiliary > 0 ? ` || auxiliary (training only): ${n(r.auxiliary)}` : ""}` +
  (r.reconfigured === null
    ? ""
    : `\nreconfigured: at most ${n(r.reconfigured.budget.matrices)} + ${n(r.reconfigured.budget.vectors)} + ${n(r.reconfigured.budget.special)} more train at once (matrices + vectors + special budgets) of ${n(r.reconfigured.total)} over ${r.reconfigured.candidates} candidates`);

/**
 * A readable account of a method on a backbone: each target with its formula and the sites it
 * changes (shape, tensors, fast path or materialised), then totals like HF PEFT's
 * print_trainable_parameters.
 */
export const describeMethod = (m: Method, config: VitConfig, options: { readonly sites?: boolean } = {}): string => {
  const resolved = resolve(m, config);
  const { placements } = resolved;
  const report = countResolved(resolved);
  const lines = [`method: ${m.targets.length} target(s), ${m.losses.length} loss term(s), ${m.rules.length} rule(s)`];
  m.targets.forEach((tg, i) => {
    const mine = placements.filter((p) => p.target === i);
    lines.push(`  [${i}] ${showTransform(tg.transform)} on ${showSelector(tg.select)}: ${mine.length} site(s), ${n(report.targets[i]!.trainable)} trainable`);
    lines.push(`      ${formula(tg.transform)}`);
    if (options.sites === false) return;
    for (const p of mine) {
      const tensors = resolved.params
        .filter((a) => a.placement === p)
        .map((a) => `${a.role} ${a.shape.join("×")}${a.trainable ? "" : " (fixed)"}`)
        .join(", ");
      const own = leaves(p.transform);
      const path = own.some(isModule) ? "module beside the MLP" : own.every(hasFastPath) && p.site.matrix ? "fast path" : "materialised";
      lines.push(
        `      ${p.site.name.padEnd(34)} ${p.site.shape.join("×").padEnd(10)} ${n(countTransform(p.transform, p.site)).padStart(9)}  ${tensors || "-"}${leaves(p.transform).length > 0 ? `  (${path})` : ""}`,
      );
    }
  });
  m.losses.forEach((l, i) => lines.push(`  loss [${i}] ${showLoss(l)}: ${lossKindOf(l).formula(l, config)}`));
  m.rules.forEach((r, i) => lines.push(`  rule [${i}] ${showRule(r)}`));
  lines.push(totals(report));
  return lines.join("\n");
};

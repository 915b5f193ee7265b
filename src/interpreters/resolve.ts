import type { Selector } from "../dsl/selector.js";
import { showSelector } from "../dsl/selector.js";
import type { WeightTransform } from "../dsl/transform.js";
import { showTransform } from "../dsl/transform.js";
import type { Method } from "../dsl/method.js";
import { lossKindOf } from "../losses/registry.js";
import type { Rule } from "../dsl/rule.js";
import { vitSites, type Site } from "../models/vitParams.js";
import type { VitConfig } from "../models/vitConfig.js";
import { MethodError } from "./methodError.js";
import { kindOf, leaves, wrapperNodes } from "./leaves.js";
import { isPrimitive, primitiveOf } from "../primitives/registry.js";

/** One transform placed on one site by one target. */
export interface Placement {
  readonly target: number;
  readonly site: Site;
  readonly transform: WeightTransform;
}

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  );

const blockIndex = (i: number, depth: number): number => (i < 0 ? Math.max(0, depth + i) : Math.min(i, depth));

/** Drop q/k/v row blocks whose whole qkv weight is also selected: one site per region. */
const normalise = (sites: readonly Site[]): Site[] => {
  const whole = new Set(sites.filter((s) => s.rows === null).map((s) => s.param));
  return sites.filter((s) => s.rows === null || !whole.has(s.param));
};

const select = (s: Selector, universe: readonly Site[], depth: number, path: string): Site[] => {
  switch (s._tag) {
    case "All":
      return [...universe];
    case "Glob": {
      const re = globToRegExp(s.pattern);
      return universe.filter((x) => re.test(x.name));
    }
    case "Regex": {
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${s.pattern})$`);
      } catch (e) {
        throw new MethodError(`${path}.pattern`, `invalid regular expression ${JSON.stringify(s.pattern)}: ${(e as Error).message}`);
      }
      return universe.filter((x) => re.test(x.name));
    }
    case "Role":
      return universe.filter((x) => x.roles.includes(s.role));
    case "Blocks": {
      const from = blockIndex(s.from, depth);
      const to = s.to === null ? depth : blockIndex(s.to, depth);
      return universe.filter((x) => x.block !== null && x.block >= from && x.block < to);
    }
    case "And":
      return s.of.reduce<Site[]>(
        (acc, sub, i) => {
          const keep = new Set(select(sub, universe, depth, `${path}.of[${i}]`).map((x) => x.name));
          return acc.filter((x) => keep.has(x.name));
        },
        [...universe],
      );
    case "Or": {
      const keep = new Set(s.of.flatMap((sub, i) => select(sub, universe, depth, `${path}.of[${i}]`)).map((x) => x.name));
      return universe.filter((x) => keep.has(x.name));
    }
    case "Not": {
      const drop = new Set(select(s.of, universe, depth, `${path}.of`).map((x) => x.name));
      return universe.filter((x) => !drop.has(x.name));
    }
    case "Expect": {
      const found = normalise(select(s.of, universe, depth, `${path}.of`));
      if (found.length !== s.count) {
        const names = found
          .slice(0, 6)
          .map((x) => x.name)
          .join(", ");
        throw new MethodError(
          path,
          `${showSelector(s.of)} was expected to match ${s.count} sites but matched ${found.length}${found.length > 0 ? ` (${names}${found.length > 6 ? ", ..." : ""})` : ""}`,
        );
      }
      return found;
    }
  }
};

/** The sites a selector picks on a backbone, in the backbone's parameter order. */
export const resolveSelector = (s: Selector, config: VitConfig, path = "select"): Site[] => normalise(select(s, vitSites(config), config.depth, path));

/** Whether a transform has a meaning on a site (low-rank updates need a matrix). */
export const appliesTo = (t: WeightTransform, site: Site): boolean => {
  if (isPrimitive(t)) return primitiveOf(t).appliesTo(t, site);
  switch (t._tag) {
    case "Frozen":
      return true;
    case "Sum":
      return t.terms.every((x) => appliesTo(x, site));
    case "Permuted":
      return site.matrix && appliesTo(t.inner, site);
    case "Quantized":
      return appliesTo(t.inner, site);
  }
};

/** The first reason a leaf of the expression cannot sit on these sites of this backbone (a rank above min(out, in), SSF without a bias…). */
const leafProblem = (t: WeightTransform, sites: readonly Site[], config: VitConfig): string | null => {
  for (const leaf of leaves(t)) {
    const problem = leaf.primitive.check?.(leaf.node, sites, config) ?? null;
    if (problem !== null) return problem;
  }
  return null;
};

/** How many leaves of the expression replace their site (`full`). */
const countReplacing = (t: WeightTransform): number => leaves(t).filter((l) => kindOf(l) === "replace").length;

/**
 * A module-level transform inside an expression that combines ΔWs: an output scale (SSF)
 * anywhere below the top, a module (AdaptFormer) below anything but `quantized` (Bi-AdaptFormer).
 */
const misplacedModule = (t: WeightTransform, under: "top" | "quantized" | "delta" = "top"): string | null => {
  if (isPrimitive(t)) {
    const { kind } = primitiveOf(t).composition;
    if (kind === "outputScale" && under !== "top")
      return `\`${primitiveOf(t).show(t).replace(/\(.*$/, "")}\` acts on a module's output after its other transforms: use it as a target's whole transform, not inside sum/permuted/quantized`;
    if (kind === "module" && under === "delta")
      return `\`${primitiveOf(t).show(t).replace(/\(.*$/, "")}\` adds a module, not a ΔW: use it as a target's whole transform or inside \`quantized\`, not inside sum/permuted`;
    return null;
  }
  switch (t._tag) {
    case "Sum":
      return t.terms.map((x) => misplacedModule(x, "delta")).find((x) => x !== null) ?? null;
    case "Permuted":
      return misplacedModule(t.inner, "delta");
    case "Quantized":
      return misplacedModule(t.inner, under === "top" ? "quantized" : "delta");
    case "Frozen":
      return null;
  }
};

/** A replacing leaf (`full`) has no ΔW for an enclosing `permuted` to act on. */
const replacingUnderWrapper = (t: WeightTransform): boolean => leaves(t).some((l) => kindOf(l) === "replace" && l.wrappers.length > 0);

/** Whether an expression holds state that only a gradient estimate sets (S²FT's tours and weighted positions). */
export const needsEstimate = (t: WeightTransform): boolean =>
  wrapperNodes(t).some((w) => w.rows._tag === "Tour" || w.cols._tag === "Tour") || leaves(t).some((l) => l.primitive.needsEstimate?.(l.node) ?? false);

/**
 * A `once` rule and the state it sets come together: state without its rule, or the rule with
 * nothing to set, is a mistake, not a default. `needing` is the path of the first part that needs it.
 */
const checkRulePairing = (m: Method, action: Rule["action"]["_tag"], needing: string | null, missing: string, idle: string): void => {
  const rule = m.rules.findIndex((r) => r.action._tag === action);
  if (needing !== null && rule < 0) throw new MethodError(needing, missing);
  if (rule >= 0 && needing === null) throw new MethodError(`rules[${rule}]`, idle);
};

const firstPath = (index: number, path: (i: number) => string): string | null => (index < 0 ? null : path(index));

/** BAFT's layers must exist in the backbone. */
const checkLossTerms = (m: Method, config: VitConfig): void => {
  m.losses.forEach((l, i) => {
    const problem = lossKindOf(l).check?.(l, config) ?? null;
    if (problem !== null) throw new MethodError(`losses[${i}].${problem.field}`, problem.reason);
  });
};

/** Two sites share entries: the same parameter and overlapping rows. */
export const overlaps = (a: Site, b: Site): boolean =>
  a.param === b.param && (a.rows === null || b.rows === null || (a.rows[0] < b.rows[1] && b.rows[0] < a.rows[1]));

/**
 * Place every target's transform on the sites it selects and applies to. `full` is idempotent:
 * a site that an earlier target already makes trainable as a whole (BitFit's head.bias, then a
 * linear probe's) is placed once. Fails on a target that applies to nothing and on any other
 * region made trainable (`full`) twice.
 */
export const resolveMethod = (m: Method, config: VitConfig): Placement[] => {
  checkRulePairing(
    m,
    "GradientEstimate",
    firstPath(
      m.targets.findIndex((tg) => needsEstimate(tg.transform)),
      (i) => `targets[${i}].transform`,
    ),
    "tours and weighted spectral positions are set from a gradient pre-estimate: add the rule once(gradientEstimate()) to `rules`",
    "gradientEstimate has nothing to set: no target uses a tour permutation or weighted spectral positions",
  );
  const needing = m.losses.findIndex((l) => lossKindOf(l).needsRule?.action === "FeatureStatistics");
  checkRulePairing(
    m,
    "FeatureStatistics",
    firstPath(needing, (i) => `losses[${i}]`),
    needing < 0 ? "" : lossKindOf(m.losses[needing]!).needsRule!.missing,
    "featureStatistics has nothing to set: no loss term is RIFT",
  );
  checkLossTerms(m, config);
  const wholeFull = new Set<string>();
  const placements = m.targets.flatMap((tg, i): Placement[] => {
    const path = `targets[${i}]`;
    const misplaced = misplacedModule(tg.transform);
    if (misplaced !== null) throw new MethodError(`${path}.transform`, misplaced);
    if (replacingUnderWrapper(tg.transform))
      throw new MethodError(`${path}.transform`, "`full` cannot sit inside `permuted`: it replaces the weight and has no ΔW to permute");
    const selected = resolveSelector(tg.select, config, `${path}.select`);
    const applied = selected.filter((site) => appliesTo(tg.transform, site));
    if (applied.length === 0) {
      const why =
        selected.length === 0
          ? "the selection is empty"
          : `none of its ${selected.length} sites (${selected
              .slice(0, 3)
              .map((x) => x.name)
              .join(", ")}${selected.length > 3 ? ", ..." : ""}) suits the transform`;
      throw new MethodError(path, `${showTransform(tg.transform)} on ${showSelector(tg.select)} applies to no site: ${why}`);
    }
    const problem = leafProblem(tg.transform, applied, config);
    if (problem !== null) throw new MethodError(`${path}.transform`, problem);
    if (tg.transform._tag !== "Full") return applied.map((site) => ({ target: i, site, transform: tg.transform }));
    const fresh = applied.filter((site) => !wholeFull.has(site.name));
    for (const site of fresh) wholeFull.add(site.name);
    return fresh.map((site) => ({ target: i, site, transform: tg.transform }));
  });
  // Per parameter, the full placements seen so far: they do not overlap, so each list stays short and the check is linear.
  const fullOn = new Map<string, Placement[]>();
  for (const b of placements) {
    for (let k = 0; k < countReplacing(b.transform); k++) {
      const seen = fullOn.get(b.site.param) ?? [];
      const a = seen.find((x) => overlaps(x.site, b.site));
      if (a) throw new MethodError(`targets[${b.target}]`, `${b.site.name} is made trainable (full) again; targets[${a.target}] already trains ${a.site.name}`);
      fullOn.set(b.site.param, [...seen, b]);
    }
  }
  return placements;
};

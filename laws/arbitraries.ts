import { primitives } from "../src/primitives/registry.js";
import fc from "fast-check";
import type { Selector } from "../src/dsl/selector.js";
import { roles } from "../src/models/vitParams.js";
import type { PermutationInit, WeightTransform } from "../src/dsl/transform.js";
import type { Method, Target } from "../src/dsl/method.js";
import type { LossTerm } from "../src/dsl/loss.js";
import { lossTermKinds } from "../src/losses/registry.js";
import { featureStatistics, gradientEstimate, once } from "../src/dsl/rule.js";
import { needsEstimate } from "../src/interpreters/resolve.js";
import type { VitConfig } from "../src/models/vitConfig.js";

/** The VisionTransformer options of a config (everything but its sizes). */
export type VitArchitecture = Pick<VitConfig, "gelu" | "qkvBias" | "classToken" | "regTokens" | "noEmbedClass" | "preNorm" | "layerScale" | "pool" | "fcNorm">;

export const architectureOf = (c: VitConfig): VitArchitecture => {
  const { gelu, qkvBias, classToken, regTokens, noEmbedClass, preNorm, layerScale, pool, fcNorm } = c;
  return Object.fromEntries(
    Object.entries({ gelu, qkvBias, classToken, regTokens, noEmbedClass, preNorm, layerScale, pool, fcNorm }).filter(([, v]) => v !== undefined),
  ) as VitArchitecture;
};

/** timm's VisionTransformer options in random combinations (the plain class-token ViT among them). */
export const arbArchitecture: fc.Arbitrary<VitArchitecture> = fc
  .record({
    gelu: fc.constantFrom("erf" as const, "tanh" as const, "quick" as const),
    qkvBias: fc.boolean(),
    tokens: fc.constantFrom(
      { classToken: true, pool: "token" as const },
      { classToken: true, pool: "avg" as const },
      { classToken: false, pool: "avg" as const },
    ),
    regTokens: fc.constantFrom(0, 0, 2),
    noEmbedClass: fc.boolean(),
    preNorm: fc.boolean(),
    layerScale: fc.boolean(),
    fcNorm: fc.option(fc.boolean(), { nil: undefined }),
  })
  .map(({ tokens, fcNorm, ...r }): VitArchitecture => ({ ...r, ...tokens, ...(fcNorm === undefined ? {} : { fcNorm }) }));

/**
 * Small random ViT shapes; `depth` is fixed when a method's block ranges need it, and so is the
 * architecture when the laws check a given backbone's; otherwise it is random too, a third of
 * the time the plain class-token ViT.
 */
export const arbConfig = (depth?: number, architecture?: VitArchitecture): fc.Arbitrary<VitConfig> =>
  fc
    .record({
      patch: fc.constantFrom(2, 4),
      grid: fc.constantFrom(2, 3),
      channels: fc.constantFrom(1, 3),
      // Width ≥ 4: LayerNorm over 2 features keeps only a sign, which hides most adaptations,
      // and over 3 it is ill-conditioned enough to break float32 agreement with the reference.
      attention: fc.constantFrom({ heads: 1, headDim: 4 }, { heads: 2, headDim: 2 }, { heads: 2, headDim: 4 }),
      depth: depth === undefined ? fc.integer({ min: 1, max: 3 }) : fc.constant(depth),
      mlpRatio: fc.constantFrom(1, 2),
      classes: fc.integer({ min: 2, max: 5 }),
      // Sometimes a backbone that already keeps parallel adapters (a merged AdaptFormer).
      kept: fc.option(fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }), { nil: undefined, freq: 4 }),
      architecture: architecture === undefined ? fc.option(arbArchitecture, { nil: undefined, freq: 3 }) : fc.constant(architecture),
    })
    .map((r): VitConfig => ({
      image: r.patch * r.grid,
      channels: r.channels,
      patch: r.patch,
      width: r.attention.heads * r.attention.headDim,
      depth: r.depth,
      heads: r.attention.heads,
      mlpRatio: r.mlpRatio,
      classes: r.classes,
      layerNormEps: 1e-6,
      gelu: "erf",
      ...(r.kept ? { mlpAdapters: r.kept.slice(0, r.depth) } : {}),
      ...r.architecture,
    }));

const globs = ["*", "blocks.*.attn.qkv.weight", "blocks.0.*", "*.bias", "*norm*", "head.*", "blocks.*.mlp.fc?.weight", "*[q]"];

export const arbSelector: fc.Arbitrary<Selector> = fc.letrec<{ selector: Selector }>((tie) => ({
  selector: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant<Selector>({ _tag: "All" }),
    fc.constantFrom(...roles).map((role): Selector => ({ _tag: "Role", role })),
    fc.constantFrom(...globs).map((pattern): Selector => ({ _tag: "Glob", pattern })),
    fc
      .record({ from: fc.integer({ min: -3, max: 2 }), to: fc.option(fc.integer({ min: -2, max: 3 }), { nil: null }) })
      .map(({ from, to }): Selector => ({ _tag: "Blocks", from, to })),
    fc.array(tie("selector"), { minLength: 1, maxLength: 3 }).map((of): Selector => ({ _tag: "And", of })),
    fc.array(tie("selector"), { minLength: 1, maxLength: 3 }).map((of): Selector => ({ _tag: "Or", of })),
    tie("selector").map((of): Selector => ({ _tag: "Not", of })),
  ),
})).selector;

/** The library's own primitives that change a weight, and those that add a module (only ever a target's whole transform); users' enter through the methods they check. */
const weightPrimitives = Object.values(primitives).filter((p) => p.composition.kind !== "module" && p.tag !== "Custom");
const modulePrimitives = Object.values(primitives).filter((p) => p.composition.kind === "module");

/** Identity, random, or S²FT's tour (set by the gradientEstimate rule the method then carries). */
const arbPermutation: fc.Arbitrary<PermutationInit> = fc.oneof(
  fc.constant<PermutationInit>({ _tag: "Identity" }),
  fc.integer({ min: 0, max: 99 }).map((seed): PermutationInit => ({ _tag: "Random", seed })),
  fc.integer({ min: 0, max: 9 }).map((seed): PermutationInit => ({ _tag: "Tour", seed })),
);

export const arbTransform: fc.Arbitrary<WeightTransform> = fc.letrec<{ transform: WeightTransform }>((tie) => ({
  transform: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    ...weightPrimitives.map((p) => ({ arbitrary: p.arbitrary as fc.Arbitrary<WeightTransform>, weight: 2 })),
    { arbitrary: fc.constant<WeightTransform>({ _tag: "Frozen" }), weight: 1 },
    { arbitrary: fc.array(tie("transform"), { minLength: 1, maxLength: 3 }).map((terms): WeightTransform => ({ _tag: "Sum", terms })), weight: 2 },
    {
      arbitrary: fc
        .record({
          rows: arbPermutation,
          cols: arbPermutation,
          inner: tie("transform"),
        })
        .map((x): WeightTransform => ({ _tag: "Permuted", ...x })),
      weight: 2,
    },
    { arbitrary: tie("transform").map((inner): WeightTransform => ({ _tag: "Quantized", bits: 1, inner })), weight: 1 },
  ),
})).transform;

/** AdaptFormer's module, plain or at 1 bit. */
const arbModule: fc.Arbitrary<WeightTransform> = fc
  .record({
    module: fc.oneof(...modulePrimitives.map((p) => p.arbitrary as fc.Arbitrary<WeightTransform>)),
    bits: fc.boolean(),
  })
  .map(({ module, bits }): WeightTransform => (bits ? { _tag: "Quantized", bits: 1, inner: module } : module));

export const arbTarget: fc.Arbitrary<Target> = fc.record({
  select: fc.oneof({ arbitrary: arbSelector, weight: 4 }, { arbitrary: fc.constant<Selector>({ _tag: "Role", role: "mlp" }), weight: 1 }),
  transform: fc.oneof({ arbitrary: arbTransform, weight: 5 }, { arbitrary: arbModule, weight: 1 }),
});

export const arbLoss: fc.Arbitrary<LossTerm> = fc.oneof(...Object.values(lossTermKinds).map((k) => k.arbitrary as fc.Arbitrary<LossTerm>));

/** Targets, often with loss terms; tours and weighted positions bring the pre-estimate that sets them, RIFT the rule that sets its statistics. */
export const arbMethod: fc.Arbitrary<Method> = fc
  .record({
    targets: fc.array(arbTarget, { minLength: 1, maxLength: 3 }),
    losses: fc.oneof(fc.constant<LossTerm[]>([]), fc.array(arbLoss, { minLength: 1, maxLength: 2 })),
  })
  .map(({ targets, losses }) => ({
    targets,
    losses,
    rules: [
      ...(targets.some((t) => needsEstimate(t.transform)) ? [once(gradientEstimate({ batches: 2 }))] : []),
      ...(losses.some((l) => lossTermKinds[l._tag].needsRule?.action === "FeatureStatistics") ? [once(featureStatistics())] : []),
    ],
  }));

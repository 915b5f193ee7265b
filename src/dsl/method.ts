import type { Selector } from "./selector.js";
import type { WeightTransform } from "./transform.js";
import type { LossTerm } from "./loss.js";
import type { Rule } from "./rule.js";

/** A selection paired with the transform applied to every site it picks. */
export interface Target {
  readonly select: Selector;
  readonly transform: WeightTransform;
}

/**
 * A PEFT method: what changes (targets), what is optimised besides cross-entropy (losses),
 * and when the configuration changes (rules). Methods form a monoid under `combine`.
 */
export interface Method {
  readonly targets: readonly Target[];
  readonly losses: readonly LossTerm[];
  readonly rules: readonly Rule[];
}

export const target = (select: Selector, transform: WeightTransform): Target => ({ select, transform });

export const method = (parts: Partial<Method>): Method => ({
  targets: parts.targets ?? [],
  losses: parts.losses ?? [],
  rules: parts.rules ?? [],
});

/** The frozen model: the identity of `combine`. */
export const empty: Method = method({});

const dedupe = <A>(xs: readonly A[]): readonly A[] => {
  const seen = new Set<string>();
  return xs.filter((x) => {
    const key = JSON.stringify(x);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
};

/**
 * Concatenate the parts of several methods. Structurally identical entries are kept once,
 * so `combine(lora, head)` and `combine(rlrr, head)` compose without training the head twice.
 */
export const combine = (...methods: readonly Method[]): Method => ({
  targets: dedupe(methods.flatMap((m) => m.targets)),
  losses: dedupe(methods.flatMap((m) => m.losses)),
  rules: dedupe(methods.flatMap((m) => m.rules)),
});

import { baftKind } from "./baft.js";
import { l2spKind } from "./l2sp.js";
import { riftKind } from "./rift.js";
import { rscKind } from "./rsc.js";
import type { LossTermKind } from "./lossTerm.js";

/** The loss terms by tag: a new one is its file plus a line here. */
export const lossTermKinds = {
  Baft: baftKind,
  Rift: riftKind,
  Rsc: rscKind,
  L2SP: l2spKind,
} as const;

type TermOf<K> = K extends LossTermKind<infer T> ? T : never;

export type LossTerm = { [K in keyof typeof lossTermKinds]: TermOf<(typeof lossTermKinds)[K]> }[keyof typeof lossTermKinds];

/** The kind that gives `l` its meaning. */
export const lossKindOf = <T extends LossTerm>(l: T): LossTermKind<T> => lossTermKinds[l._tag] as unknown as LossTermKind<T>;

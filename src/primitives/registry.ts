import { customDispatch } from "./custom.js";
import { fullPrimitive } from "./full.js";
import { lowRankPrimitive } from "./lowRank.js";
import { parallelAdapterPrimitive } from "./parallelAdapter.js";
import { rescalePrimitive } from "./rescale.js";
import { scaleShiftPrimitive } from "./scaleShift.js";
import { spectralPrimitive } from "./spectral.js";
import type { Primitive } from "./primitive.js";

/** The library's primitive weight transforms by tag: a new one is its file plus a line here. */
export const primitives = {
  LowRank: lowRankPrimitive,
  Full: fullPrimitive,
  Spectral: spectralPrimitive,
  Rescale: rescalePrimitive,
  ScaleShift: scaleShiftPrimitive,
  ParallelAdapter: parallelAdapterPrimitive,
  // Users' own primitives (customPrimitive), each found by its registered name.
  Custom: customDispatch,
} as const;

type TransformOf<P> = P extends Primitive<infer T> ? T : never;

/** A primitive transform: the leaves of every transform expression. */
export type PrimitiveTransform = { [K in keyof typeof primitives]: TransformOf<(typeof primitives)[K]> }[keyof typeof primitives];

export const isPrimitive = (t: { readonly _tag: string }): t is PrimitiveTransform => Object.hasOwn(primitives, t._tag);

/** The primitive that gives `t` its meaning. */
export const primitiveOf = <T extends PrimitiveTransform>(t: T): Primitive<T> => primitives[t._tag] as unknown as Primitive<T>;

import type * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import type { Site } from "../models/vitParams.js";
import type { VitConfig } from "../models/vitConfig.js";
import { struct } from "../util/codecKit.js";
import type { Primitive, TensorSpec, Tensors, Values } from "./primitive.js";

/** A user's primitive in a transform expression: the name it was registered under and its own fields. */
export interface Custom {
  readonly _tag: "Custom";
  readonly primitive: string;
  readonly fields: unknown;
}

/**
 * What a user writes to add an additive primitive (W' = W + ΔW) without editing the library: the
 * same pieces as the library's own, over the primitive's fields `F`. It has no fast path: its
 * weight is materialised (and `describe` says so).
 */
export interface CustomPrimitiveSpec<F> {
  /** Unique in the process; experiment files name it as `{ "_tag": "Custom", "primitive": NAME, "fields": … }`. */
  readonly name: string;
  /** Decodes (with defaults, readable errors) and encodes the fields. */
  readonly fields: t.Type<F, unknown>;
  readonly show: (f: F) => string;
  readonly formula: (f: F) => string;
  readonly appliesTo: (f: F, site: Site) => boolean;
  readonly check?: (f: F, sites: readonly Site[], config: VitConfig) => string | null;
  readonly count: (f: F, site: Site) => number;
  readonly tensors: (f: F, site: Site) => readonly TensorSpec[];
  readonly startsAtIdentity: (f: F, quantized: boolean) => boolean;
  /** ΔW [dout, din] in tfjs, from the tensors by role. */
  readonly delta: (f: F, tensors: Tensors, site: Site, pretrained: () => tf.Tensor2D) => tf.Tensor2D;
  /** The same ΔW in float64, written independently: the laws compare the two. */
  readonly delta64: (f: F, values: Values, dout: number, din: number, pretrained: ArrayLike<number>) => Float64Array;
  readonly arbitrary: fc.Arbitrary<F>;
}

export interface CustomPrimitive<F> {
  readonly name: string;
  /** The primitive as a transform, ready for `target(select, …)`. */
  readonly transform: (fields: F) => Custom;
}

/** Every user primitive of this process by name, with the codec of its fields. */
const registered = new Map<string, Primitive<Custom> & { readonly fields: t.Type<unknown, unknown> }>();

/** The registered primitive a custom node names; an unknown name is an error naming it. */
const lookup = (name: string): Primitive<Custom> => {
  const p = registered.get(name);
  if (!p)
    throw new CustomPrimitiveError(
      `custom primitive ${JSON.stringify(name)} is not registered in this process (registered: ${[...registered.keys()].join(", ") || "none"}); define it with customPrimitive(...) before use`,
    );
  return p;
};

export class CustomPrimitiveError extends Error {}

/**
 * Register a user's primitive: every interpreter (compile, reference, count, describe, merge,
 * adapter files) and every law then accepts `prim.transform(fields)` wherever a transform goes.
 */
export const customPrimitive = <F>(spec: CustomPrimitiveSpec<F>): CustomPrimitive<F> => {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(spec.name))
    throw new CustomPrimitiveError(`custom primitive name ${JSON.stringify(spec.name)}: expected a letter, then letters, digits, _ or -`);
  if (registered.has(spec.name)) throw new CustomPrimitiveError(`custom primitive ${JSON.stringify(spec.name)} is already registered`);
  const fields = (c: Custom): F => c.fields as F;
  const transform = (f: F): Custom => ({ _tag: "Custom", primitive: spec.name, fields: f });
  registered.set(spec.name, {
    fields: spec.fields as t.Type<unknown, unknown>,
    tag: "Custom",
    codec: customCodec,
    composition: {
      kind: "additive",
      delta: (c, tensors, site, pretrained) => spec.delta(fields(c), tensors, site, pretrained),
      delta64: (c, values, dout, din, pretrained) => spec.delta64(fields(c), values, dout, din, pretrained),
    },
    show: (c) => spec.show(fields(c)),
    formula: (c) => spec.formula(fields(c)),
    appliesTo: (c, site) => spec.appliesTo(fields(c), site),
    ...(spec.check ? { check: (c: Custom, sites: readonly Site[], config: VitConfig) => spec.check!(fields(c), sites, config) } : {}),
    count: (c, site) => spec.count(fields(c), site),
    tensors: (c, site) => spec.tensors(fields(c), site),
    startsAtIdentity: (c, quantized) => spec.startsAtIdentity(fields(c), quantized),
    arbitrary: spec.arbitrary.map(transform),
  });
  return { name: spec.name, transform };
};

const shape = struct("Custom", { _tag: t.literal("Custom"), primitive: t.string, fields: t.unknown });

/** A custom node's JSON: the name must be registered, and its fields decode with that primitive's own codec. */
const customCodec: t.Type<Custom, unknown> = new t.Type<Custom, unknown>(
  "Custom",
  (u): u is Custom => shape.is(u) && (registered.get(u.primitive)?.fields.is(u.fields) ?? false),
  (u, c) => {
    const outer = shape.validate(u, c);
    if (outer._tag === "Left") return outer;
    const codec = registered.get(outer.right.primitive)?.fields;
    if (!codec)
      return t.failure(
        u,
        c,
        `custom primitive ${JSON.stringify(outer.right.primitive)} is not registered in this process; define it with customPrimitive(...) in the module that loads this method`,
      );
    const inner = codec.validate(outer.right.fields, [...c, { key: "fields", type: codec, actual: outer.right.fields }]);
    return inner._tag === "Left" ? inner : t.success({ _tag: "Custom", primitive: outer.right.primitive, fields: inner.right });
  },
  (a) => ({ _tag: "Custom", primitive: a.primitive, fields: (registered.get(a.primitive)?.fields ?? t.unknown).encode(a.fields) }),
);

/** The registered primitive's ΔW pair (every custom primitive is additive). */
const additive = (name: string) => {
  const c = lookup(name).composition;
  if (c.kind !== "additive") throw new CustomPrimitiveError(`custom primitive ${name} is not additive`);
  return c;
};

/** Every custom node to its registered primitive: the library's registry entry for all user primitives. */
export const customDispatch: Primitive<Custom> = {
  tag: "Custom",
  codec: customCodec,
  composition: {
    kind: "additive",
    delta: (c, tensors, site, pretrained) => additive(c.primitive).delta(c, tensors, site, pretrained),
    delta64: (c, values, dout, din, pretrained) => additive(c.primitive).delta64(c, values, dout, din, pretrained),
  },
  show: (c) => lookup(c.primitive).show(c),
  formula: (c) => lookup(c.primitive).formula(c),
  appliesTo: (c, site) => lookup(c.primitive).appliesTo(c, site),
  check: (c, sites, config) => lookup(c.primitive).check?.(c, sites, config) ?? null,
  count: (c, site) => lookup(c.primitive).count(c, site),
  tensors: (c, site) => lookup(c.primitive).tensors(c, site),
  startsAtIdentity: (c, quantized) => lookup(c.primitive).startsAtIdentity(c, quantized),
  // Whatever is registered when the laws draw.
  arbitrary: fc.constant(null).chain(() => fc.constantFrom(...registered.values()).chain((p) => p.arbitrary)),
};

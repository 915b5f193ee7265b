import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { MethodError } from "../interpreters/methodError.js";
import type { Site } from "../models/vitParams.js";
import type { VitConfig } from "../models/vitConfig.js";
import { struct } from "../util/codecKit.js";
import { showValue } from "../util/decodeError.js";
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

/** A user's primitive that is misdefined or misbehaves: bad input, naming the primitive and what it did. */
export class CustomPrimitiveError extends MethodError {
  constructor(primitive: string, why: string) {
    super(`custom primitive ${JSON.stringify(primitive)}`, why);
  }
}

/** The registered primitive a custom node names; an unknown name is an error naming it. */
const lookup = (name: string): Primitive<Custom> => {
  const p = registered.get(name);
  if (!p)
    throw new CustomPrimitiveError(
      name,
      `not registered in this process (registered: ${[...registered.keys()].join(", ") || "none"}); define it with customPrimitive(...) before use`,
    );
  return p;
};

/** Stated ceiling on one tensor a user's primitive declares (1 GiB as float32). */
const maxTensorValues = 2 ** 28;

/**
 * The spec with every member checked as it is called: a member that throws, or returns what it
 * must not (a negative shape, a NaN count, a ΔW of another shape), is a CustomPrimitiveError
 * naming the primitive, the member and the site — never a stack trace from deep in tfjs.
 */
const checkedSpec = <F>(spec: CustomPrimitiveSpec<F>): CustomPrimitiveSpec<F> => {
  const fail = (member: string, why: string): never => {
    throw new CustomPrimitiveError(spec.name, `${member} ${why}`);
  };
  const shown = (a: unknown) => (typeof a === "number" ? String(a) : a instanceof tf.Tensor ? `a tensor of shape ${JSON.stringify(a.shape)}` : showValue(a));
  const call = <A>(member: string, f: () => A, ok: (a: A) => boolean, expected: string): A => {
    let a: A;
    try {
      a = f();
    } catch (e) {
      return fail(member, `threw: ${e instanceof Error ? e.message : String(e)}`);
    }
    return ok(a) ? a : fail(member, `returned ${shown(a)}; expected ${expected}`);
  };
  const isString = (a: unknown) => typeof a === "string";
  const isBoolean = (a: unknown) => typeof a === "boolean";
  const whole = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  /** What is wrong with one tensor spec a primitive declares, or null. */
  const specProblem = (x: TensorSpec): string | null => {
    if (typeof x !== "object" || x === null) return `returned ${shown(x)} as a tensor spec; expected { path, role, shape, init, trainable }`;
    if (!isString(x.path) || x.path === "") return `returned a tensor with path ${shown(x.path)}; expected a non-empty string`;
    if (!isString(x.role)) return `gave ${x.path} the role ${shown(x.role)}; expected a string`;
    if (!Array.isArray(x.shape) || x.shape.length === 0 || !x.shape.every((d) => whole(d) && d > 0))
      return `gave ${x.path} the shape ${shown(x.shape)}; expected whole numbers ≥ 1`;
    const values = x.shape.reduce((a, b) => a * b, 1);
    if (values > maxTensorValues) return `gave ${x.path} the shape ${shown(x.shape)} (${values} values); expected at most ${maxTensorValues}`;
    if (typeof x.init?._tag !== "string") return `gave ${x.path} the init ${shown(x.init)}; expected an Init such as { _tag: "Zeros" }`;
    if (!isBoolean(x.trainable)) return `gave ${x.path} trainable ${shown(x.trainable)}; expected true or false`;
    return null;
  };
  const at = (member: string, site: Site) => `${member} on ${site.name}`;
  return {
    ...spec,
    show: (f) => call("show", () => spec.show(f), isString, "a string"),
    formula: (f) => call("formula", () => spec.formula(f), isString, "a string"),
    appliesTo: (f, site) => call(at("appliesTo", site), () => spec.appliesTo(f, site), isBoolean, "true or false"),
    ...(spec.check
      ? {
          check: (f, sites, config) =>
            call(
              "check",
              () => spec.check!(f, sites, config),
              (a) => a === null || isString(a),
              "null or a string",
            ),
        }
      : {}),
    count: (f, site) => call(at("count", site), () => spec.count(f, site), whole, "a whole number ≥ 0"),
    tensors: (f, site) => {
      const specs = call(at("tensors", site), () => spec.tensors(f, site), Array.isArray, "an array of tensor specs");
      for (const x of specs) {
        const problem = specProblem(x);
        if (problem !== null) fail(at("tensors", site), problem);
      }
      return specs;
    },
    startsAtIdentity: (f, quantized) => call("startsAtIdentity", () => spec.startsAtIdentity(f, quantized), isBoolean, "true or false"),
    delta: (f, tensors, site, pretrained) =>
      call(
        at("delta", site),
        () => spec.delta(f, tensors, site, pretrained),
        (a) => a instanceof tf.Tensor && a.rank === 2 && a.shape[0] === site.shape[0] && a.shape[1] === site.shape[1],
        `ΔW of shape ${JSON.stringify(site.shape)}`,
      ),
    delta64: (f, values, dout, din, pretrained) =>
      call(
        `delta64 on a [${dout}, ${din}] site`,
        () => spec.delta64(f, values, dout, din, pretrained),
        (a) => a instanceof Float64Array && a.length === dout * din,
        `a Float64Array of ${dout * din} values`,
      ),
  };
};

/**
 * Try ΔW on each site with zero tensors of the declared shapes, when a tfjs backend is running
 * (training, the laws): a delta that throws or has another shape is refused before a run writes
 * anything. Returns the first problem.
 */
const tryDelta = <F>(spec: CustomPrimitiveSpec<F>, f: F, sites: readonly Site[]): string | null => {
  if (tf.engine().backendName == null) return null;
  for (const site of sites) {
    try {
      tf.tidy(() => {
        const byRole = new Map(spec.tensors(f, site).map((x) => [x.role, tf.zeros([...x.shape])]));
        const tensors = (role: string) =>
          byRole.get(role) ??
          (() => {
            throw new CustomPrimitiveError(spec.name, `delta on ${site.name} read a tensor of role ${JSON.stringify(role)} that tensors does not declare`);
          })();
        spec.delta(f, tensors, site, () => tf.zeros(site.shape.slice(0, 2) as [number, number]));
      });
    } catch (e) {
      if (e instanceof CustomPrimitiveError) return e.message;
      throw e;
    }
  }
  return null;
};

/**
 * Register a user's primitive: every interpreter (compile, reference, count, describe, merge,
 * adapter files) and every law then accepts `prim.transform(fields)` wherever a transform goes.
 */
export const customPrimitive = <F>(given: CustomPrimitiveSpec<F>): CustomPrimitive<F> => {
  if (typeof given.name !== "string" || !/^[A-Za-z][A-Za-z0-9_-]*$/.test(given.name))
    throw new CustomPrimitiveError(String(given.name), "name: expected a letter, then letters, digits, _ or -");
  if (registered.has(given.name)) throw new CustomPrimitiveError(given.name, "already registered");
  const spec = checkedSpec(given);
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
    // Before anything is allocated: the primitive's own check, then every member it will be asked for on these sites.
    check: (c: Custom, sites: readonly Site[], config: VitConfig) => {
      try {
        const own = spec.check?.(fields(c), sites, config) ?? null;
        if (own !== null) return own;
        spec.show(fields(c));
        spec.formula(fields(c));
        spec.startsAtIdentity(fields(c), false);
        for (const site of sites) {
          spec.count(fields(c), site);
          spec.tensors(fields(c), site);
        }
      } catch (e) {
        if (e instanceof CustomPrimitiveError) return e.message;
        throw e;
      }
      return tryDelta(spec, fields(c), sites);
    },
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
    let inner: t.Validation<unknown>;
    try {
      // Fields already decoded (a decoded method read again) are kept as they are.
      inner = codec.is(outer.right.fields)
        ? t.success(outer.right.fields)
        : codec.validate(outer.right.fields, [...c, { key: "fields", type: codec, actual: outer.right.fields }]);
    } catch (e) {
      return t.failure(
        u,
        c,
        `custom primitive ${JSON.stringify(outer.right.primitive)}: its fields codec threw: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    return inner._tag === "Left" ? inner : t.success({ _tag: "Custom", primitive: outer.right.primitive, fields: inner.right });
  },
  (a) => ({ _tag: "Custom", primitive: a.primitive, fields: (registered.get(a.primitive)?.fields ?? t.unknown).encode(a.fields) }),
);

/** The registered primitive's ΔW pair (every custom primitive is additive). */
const additive = (name: string) => {
  const c = lookup(name).composition;
  if (c.kind !== "additive") throw new CustomPrimitiveError(name, "not additive");
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

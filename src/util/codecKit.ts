import * as t from "io-ts";
import { isLeft, left, right, type Either } from "fp-ts/lib/Either.js";
import { formatErrors, formatPath, showValue } from "./decodeError.js";

/** Numbers in a range, named so errors read "expected integer ≥ 1". */
export const numberIn = (name: string, ok: (n: number) => boolean): t.Type<number> =>
  new t.Type<number>(
    name,
    (u): u is number => typeof u === "number" && ok(u),
    (u, c) => (typeof u === "number" && Number.isFinite(u) && ok(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

export const finite = numberIn("finite number", () => true);
export const nonNegative = numberIn("number ≥ 0", (n) => n >= 0);
export const positive = numberIn("number > 0", (n) => n > 0);
export const integer = numberIn("integer", Number.isInteger);
export const intAtLeast = (min: number) => numberIn(`integer ≥ ${min}`, (n) => Number.isInteger(n) && n >= min);
export const unitInterval = numberIn("number in [0, 1)", (n) => n >= 0 && n < 1);
/** An integer with a stated ceiling: a size a file declares is checked before anything is allocated for it. */
export const intIn = (min: number, max: number) =>
  numberIn(`integer in [${min}, ${max.toLocaleString("en-US")}]`, (n) => Number.isInteger(n) && n >= min && n <= max);

/** How deep JSON may nest (objects and arrays): far above any real experiment, far below a stack overflow. */
export const maxJsonDepth = 64;

/** The path of the first value nested deeper than `limit`, or null; iterative, so any depth is safe to measure. */
export const tooDeep = (u: unknown, limit = maxJsonDepth): string | null => {
  const stack: [unknown, number, string][] = [[u, 0, ""]];
  while (stack.length > 0) {
    const [v, depth, path] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= limit) return path === "" ? "the top level" : path;
    for (const [k, child] of Object.entries(v)) stack.push([child, depth + 1, Array.isArray(v) ? `${path}[${k}]` : path === "" ? k : `${path}.${k}`]);
  }
  return null;
};

/** A field that may be left out of the JSON; decoding fills the default. Its input type (`InputOf`) may leave it out too. */
export const withDefault = <A, O>(codec: t.Type<A, O>, fallback: NoInfer<A>): t.Type<A, O | undefined> =>
  new t.Type<A, O | undefined>(codec.name, codec.is, (u, c) => (u === undefined ? t.success(fallback) : codec.validate(u, c)), codec.encode);

/** A field that may be left out and then stays absent (no default written back). */
export const optional = <A, O>(codec: t.Type<A, O>): t.Type<A | undefined, O | undefined> =>
  new t.Type<A | undefined, O | undefined>(
    codec.name,
    (u): u is A | undefined => u === undefined || codec.is(u),
    (u, c) => (u === undefined ? t.success(undefined) : codec.validate(u, c)),
    (a) => (a === undefined ? undefined : codec.encode(a)),
  );

type ReadonlyDeep<T> = T extends (infer E)[] ? readonly ReadonlyDeep<E>[] : T extends object ? { readonly [K in keyof T]: ReadonlyDeep<T[K]> } : T;

/**
 * What a user may write where a codec decodes — in JSON, or as a TypeScript value: the codec's
 * encoded form (io-ts's `OutputOf`), read-only, with every field that has a default optional.
 */
export type InputOf<C extends t.Any> = ReadonlyDeep<t.OutputOf<C>>;

/** A struct's fields as input: those whose input admits undefined (defaults, optional fields) may be left out. */
type StructInput<P extends t.Props> = {
  [K in keyof P as undefined extends t.OutputOf<P[K]> ? never : K]: t.OutputOf<P[K]>;
} & { [K in keyof P as undefined extends t.OutputOf<P[K]> ? K : never]?: t.OutputOf<P[K]> };

/** A struct that rejects unknown fields, so a typo like "rnak" is an error, not a silent default. */
export const struct = <P extends t.Props>(name: string, props: P): t.Type<t.TypeOf<t.TypeC<P>>, StructInput<P>> => {
  const inner = t.type(props, name);
  return new t.Type(
    name,
    inner.is,
    (u, c) => {
      if (typeof u !== "object" || u === null || Array.isArray(u)) return t.failure(u, c);
      const unknown = Object.keys(u).filter((k) => !(k in props));
      if (unknown.length > 0) {
        const allowed = Object.keys(props).join(", ");
        return t.failure(u, c, `unknown field "${unknown[0]}" at ${formatPath(c)} (allowed: ${allowed})`);
      }
      return inner.validate(u, c);
    },
    (a) => inner.encode(a) as unknown as StructInput<P>,
  );
};

/**
 * A union discriminated by `_tag` that reports errors for the member the `_tag` names
 * (io-ts's plain union reports every member's failure).
 */
export const taggedUnion = <A, O = A>(name: string, members: () => Record<string, t.Type<any, any>>): t.Type<A, O> => {
  let cache: Record<string, t.Type<any, any>> | undefined;
  const get = () => (cache ??= members());
  return new t.Type<A, O>(
    name,
    (u): u is A =>
      typeof u === "object" && u !== null && typeof (u as { _tag?: unknown })._tag === "string" && (get()[(u as { _tag: string })._tag]?.is(u) ?? false),
    (u, c) => {
      if (typeof u !== "object" || u === null || Array.isArray(u)) return t.failure(u, c);
      const tag = (u as { _tag?: unknown })._tag;
      const known = Object.keys(get());
      const member = typeof tag === "string" ? get()[tag] : undefined;
      if (member === undefined) {
        const expected = known.length === 0 ? `no ${name} kinds are defined yet` : `expected _tag one of ${known.map((k) => `"${k}"`).join(" | ")}`;
        const at = formatPath(c);
        return t.failure(u, c, `${expected} at ${at === "the top level" ? "_tag" : `${at}._tag`}, got ${showValue(tag)}`);
      }
      return member.validate(u, c);
    },
    (a) => get()[(a as { _tag: string })._tag]!.encode(a),
  );
};

export const literalOf = <const L extends readonly [string, ...string[]]>(name: string, values: L): t.Type<L[number]> =>
  new t.Type<L[number]>(
    `${name} (${values.map((v) => `"${v}"`).join(" | ")})`,
    (u): u is L[number] => typeof u === "string" && values.includes(u),
    (u, c) => (typeof u === "string" && values.includes(u) ? t.success(u) : t.failure(u, c)),
    t.identity,
  );

/**
 * A value or null. A value that fails as a whole is reported as one expectation ("integer or
 * null"), not one line per member; a failing field inside it keeps its own path, and its defaults apply.
 */
export const nullable = <A, O>(codec: t.Type<A, O>): t.Type<A | null, O | null> =>
  new t.Type<A | null, O | null>(
    `${codec.name} or null`,
    (u): u is A | null => u === null || codec.is(u),
    (u, c) => {
      if (u === null) return t.success(null);
      const r = codec.validate(u, c);
      return isLeft(r) && r.left.every((e) => e.context.length === c.length) ? t.failure(u, c) : r;
    },
    (a) => (a === null ? null : codec.encode(a)),
  );

/** Decode with readable errors ("expected number at method.targets[2].transform.rank, got "8""), refusing JSON nested deeper than `maxJsonDepth` first. */
export const decodeWith = <A, O>(codec: t.Type<A, O>, u: unknown): Either<readonly string[], A> => {
  const deep = tooDeep(u);
  if (deep !== null) return left([`nested deeper than ${maxJsonDepth} levels at ${deep.length > 120 ? `${deep.slice(0, 117)}...` : deep}`]);
  const r = codec.decode(u);
  return isLeft(r) ? left(formatErrors(r.left)) : right(r.right);
};

/**
 * equinox-style filter/partition/combine over a flat parameter tree: trainability is a mask,
 * a pure value, and `combine(...partition(p, m))` gives back `p`.
 */
export type Tree<T> = ReadonlyMap<string, T>;
export type Mask = ReadonlyMap<string, boolean>;

export const partition = <T>(tree: Tree<T>, mask: Mask): readonly [Tree<T>, Tree<T>] => {
  const on = new Map<string, T>();
  const off = new Map<string, T>();
  for (const [k, v] of tree) (mask.get(k) === true ? on : off).set(k, v);
  return [on, off];
};

/** Merge partitions; `a` wins where both hold a key (they never do after `partition`). */
export const combine = <T>(a: Tree<T>, b: Tree<T>): Tree<T> => new Map([...b, ...a]);

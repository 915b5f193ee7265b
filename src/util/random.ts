/**
 * A small seeded PRNG (sfc32, seeded through splitmix32). Everything random in a run — data
 * splits, shuffles, initial values — derives from (seed, label), so results never depend on
 * call order and a resumed run draws exactly what an uninterrupted one would.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  readonly uniform: () => number;
  /** Standard normal (Box–Muller). */
  readonly normal: () => number;
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number;
}

const splitmix32 = (state: number) => () => {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
};

const hashLabel = (label: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

export const rng = (seed: number, label = ""): Rng => {
  const mix = splitmix32((seed | 0) ^ hashLabel(label));
  let a = mix(),
    b = mix(),
    c = mix(),
    d = mix();
  const next = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  const normal = (): number => {
    const u = 1 - next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
  };
  return { uniform: next, normal, int: (n) => Math.floor(next() * n) };
};

/** A seeded Fisher–Yates shuffle (a new array). */
export const shuffled = <A>(xs: readonly A[], r: Rng): A[] => {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

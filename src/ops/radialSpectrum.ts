/**
 * Share of a 2-D spectrum's energy |X(u, v)|² per radial frequency band: f = √((u'/m)² + (v'/n)²)
 * with u' = min(u, m − u) (the aliased frequency), `bands` equal bands over [0, 0.5], higher f in
 * the last. S²FT's argument (§3.2) is that its permutation moves ΔW's energy to low f.
 */
export const radialEnergy = (magnitude: ArrayLike<number>, m: number, n: number, bands = 8): number[] => {
  const out = new Array<number>(bands).fill(0);
  let total = 0;
  for (let u = 0; u < m; u++) {
    for (let v = 0; v < n; v++) {
      const e = magnitude[u * n + v]! ** 2;
      const f = Math.hypot(Math.min(u, m - u) / m, Math.min(v, n - v) / n);
      out[Math.min(bands - 1, Math.floor((f / 0.5) * bands))]! += e;
      total += e;
    }
  }
  return out.map((e) => (total > 0 ? e / total : 0));
};

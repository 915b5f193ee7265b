/** The one tolerance rule of the project: |a − b| ≤ atol + rtol·|b|. */
export interface Tolerance {
  readonly atol: number;
  readonly rtol: number;
}

export interface Mismatch {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
  readonly allowed: number;
}

/** The worst violation of the rule, or null when every element is within tolerance. */
export const worstMismatch = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Mismatch | null => {
  if (actual.length !== expected.length) {
    return { index: -1, actual: actual.length, expected: expected.length, allowed: 0 };
  }
  let worst: Mismatch | null = null;
  let worstRatio = 1;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    const allowed = tol.atol + tol.rtol * Math.abs(b);
    const err = Math.abs(a - b);
    const ratio = Number.isNaN(err) ? Infinity : err / allowed;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: i, actual: a, expected: b, allowed };
    }
  }
  return worst;
};

export const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

import { expect } from "vitest";
import { worstMismatch, type Tolerance } from "../../src/util/tolerance.js";

/** Assert |a − b| ≤ atol + rtol·|b| elementwise, reporting the worst element on failure. */
export const expectClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, what = "values"): void => {
  const worst = worstMismatch(actual, expected, tol);
  expect(worst, `${what}: ${JSON.stringify(worst)}`).toBeNull();
};

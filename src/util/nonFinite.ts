/** How many entries are NaN or ±Inf. */
export const nonFiniteCount = (data: ArrayLike<number>): number => {
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
  return bad;
};

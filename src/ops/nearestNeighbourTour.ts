/**
 * S²FT's Alg. 1: a greedy nearest-neighbour tour over the rows of X [n, d]. Starting from row
 * `start`, repeatedly step to the closest unvisited row (Euclidean distance). Rows that sit
 * next to each other in the tour are similar, so permuting a weight update into tour order
 * makes it smooth and concentrates its spectrum at low frequencies (Proposition 1).
 */
export const nearestNeighbourTour = (x: ArrayLike<number>, n: number, d: number, start: number): Int32Array => {
  if (!Number.isInteger(start) || start < 0 || start >= n) throw new RangeError(`tour start ${start} is not a row of a ${n}-row matrix`);
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < d; c++) s += x[i * d + c]! ** 2;
    norms[i] = s;
  }
  const visited = new Uint8Array(n);
  const order = new Int32Array(n);
  let current = start;
  for (let step = 0; step < n; step++) {
    order[step] = current;
    visited[current] = 1;
    let best = -1;
    let bestDistance = Infinity;
    for (let j = 0; j < n; j++) {
      if (visited[j]) continue;
      let dot = 0;
      for (let c = 0; c < d; c++) dot += x[current * d + c]! * x[j * d + c]!;
      // ‖a − b‖² = ‖a‖² + ‖b‖² − 2a·b; ties go to the lower index.
      const distance = norms[current]! + norms[j]! - 2 * dot;
      if (distance < bestDistance) {
        bestDistance = distance;
        best = j;
      }
    }
    current = best;
  }
  return order;
};

/** Σ ‖x_{order[k+1]} − x_{order[k]}‖² along a path (closed: with the step from the last row back to the first). */
export const pathEnergy = (x: ArrayLike<number>, d: number, order: ArrayLike<number>, closed: boolean): number => {
  const n = order.length;
  let total = 0;
  for (let k = 0; k < (closed ? n : n - 1); k++) {
    const a = order[k]!;
    const b = order[(k + 1) % n]!;
    for (let c = 0; c < d; c++) total += (x[b * d + c]! - x[a * d + c]!) ** 2;
  }
  return total;
};

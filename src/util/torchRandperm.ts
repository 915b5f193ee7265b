/**
 * torch's CPU `randperm(n, generator=torch.Generator().manual_seed(seed))`, exactly: the
 * generator is a 32-bit Mersenne Twister (mt19937) seeded with the seed's low 32 bits, and
 * ATen's `randperm_cpu` shuffles 0..n−1 with Fisher–Yates, swapping entry i with entry
 * i + (draw mod (n − i)). HF PEFT's FourierFT redraws its spectral positions this way on load.
 * (torch keeps this draw for n < 2³²/20; larger n use 64-bit draws there and are refused here.)
 */
export const torchRandperm = (n: number, seed: number | bigint, count = n): Int32Array => {
  if (!Number.isSafeInteger(n) || n < 0 || n >= 2 ** 32 / 20)
    throw new RangeError(`randperm: n must be an integer in [0, ${Math.floor(2 ** 32 / 20)}), got ${n}`);
  const draw = mt19937(Number(BigInt(seed) & 0xffffffffn));
  const r = new Int32Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  // Only the first `count` entries are wanted: entry i is final once step i has run.
  for (let i = 0; i < Math.min(count, n - 1); i++) {
    const z = i + (draw() % (n - i));
    const saved = r[i]!;
    r[i] = r[z]!;
    r[z] = saved;
  }
  return r.subarray(0, count);
};

/** The standard mt19937 (Matsumoto & Nishimura) from `init_genrand(seed)`: a function returning the next uint32. */
const mt19937 = (seed: number): (() => number) => {
  const state = new Uint32Array(624);
  state[0] = seed >>> 0;
  for (let j = 1; j < 624; j++) {
    const prev = state[j - 1]! ^ (state[j - 1]! >>> 30);
    // 1812433253 · prev + j mod 2³², in two 16-bit halves to stay exact in doubles.
    state[j] = (((((prev & 0xffff0000) >>> 16) * 1812433253) << 16) + (prev & 0x0000ffff) * 1812433253 + j) >>> 0;
  }
  let next = 624;
  const twist = () => {
    for (let k = 0; k < 624; k++) {
      const y = (state[k]! & 0x80000000) | (state[(k + 1) % 624]! & 0x7fffffff);
      state[k] = state[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    next = 0;
  };
  return () => {
    if (next >= 624) twist();
    let y = state[next++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  };
};

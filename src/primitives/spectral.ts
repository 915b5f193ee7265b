import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import * as t from "io-ts";
import { finite, intAtLeast, intIn, integer, literalOf, positive, struct, taggedUnion, withDefault } from "../util/codecKit.js";
import { spectralDelta } from "../ops/spectralDelta.js";
import { sizeOf } from "../models/vitParams.js";
import type { Primitive } from "./primitive.js";

/**
 * Where a spectral transform's coefficients sit: `coefficients` distinct flat indices of the
 * [dout, din] spectrum drawn uniformly without replacement from `seed`, either shared by every
 * site of one shape (FourierFT's code) or drawn per site. The drawn indices are stored in the
 * adapter file, so a loaded adapter never depends on the generator.
 */
export type SpectralPositions =
  | { readonly _tag: "Uniform"; readonly seed: number; readonly share: "shape" | "site" }
  /**
   * HF PEFT's FourierFT: the first n entries of torch's CPU `randperm(dout·din)` from
   * `manual_seed(seed)` (its `random_loc_seed`, 777 by default), so the same for every matrix of
   * a shape — the positions a HF PEFT adapter file does not store but redraws on load.
   */
  | { readonly _tag: "TorchRandperm"; readonly seed: number }
  /**
   * S²FT's Eq. 7: drawn without replacement with p(u, v) ∝ |DFT2(T⁻¹ΔŴ)(u, v)|^γ from the
   * pre-estimate ΔŴ, by a `gradientEstimate` rule before training (uniform per site until then).
   */
  | { readonly _tag: "Weighted"; readonly gamma: number; readonly seed: number };

/**
 * FourierFT's ΔW = α·Re(IDFT2(S)), IDFT normalised by 1/(dout·din); S is zero except at the
 * stored positions, whose values train. Init N(0,1) as both public implementations (not the
 * identity at init), or zeros.
 */
export interface Spectral {
  readonly _tag: "Spectral";
  readonly coefficients: number;
  readonly scale: number;
  readonly positions: SpectralPositions;
  readonly init: "normal" | "zeros";
}

/** FourierFT's reference code draws one set of positions per matrix shape from a fixed seed. */
export const defaultSpectralPositions: SpectralPositions = { _tag: "Uniform", seed: 2024, share: "shape" };

export const spectral = (options: {
  readonly coefficients: number;
  readonly scale: number;
  readonly positions?: SpectralPositions;
  readonly init?: "normal" | "zeros";
}): Spectral => ({
  _tag: "Spectral",
  coefficients: options.coefficients,
  scale: options.scale,
  positions: options.positions ?? defaultSpectralPositions,
  init: options.init ?? "normal",
});

const PositionsCodec: t.Type<SpectralPositions> = taggedUnion<SpectralPositions>("positions", () => ({
  Uniform: struct("Uniform", {
    _tag: t.literal("Uniform"),
    seed: withDefault(integer, defaultSpectralPositions.seed),
    share: withDefault(literalOf("share", ["shape", "site"]), "shape"),
  }),
  Weighted: struct("Weighted", { _tag: t.literal("Weighted"), gamma: withDefault(positive, 1.5), seed: withDefault(integer, 0) }),
  TorchRandperm: struct("TorchRandperm", { _tag: t.literal("TorchRandperm"), seed: withDefault(intAtLeast(0), 777) }),
}));

const where = (s: Spectral): string =>
  s.positions._tag === "Weighted"
    ? `positions drawn ∝ |DFT2(T⁻¹ΔŴ)|^${s.positions.gamma} from the gradient pre-estimate`
    : s.positions._tag === "TorchRandperm"
      ? `positions torch.randperm(dout·din)[:${s.coefficients}] from seed ${s.positions.seed} (HF PEFT's FourierFT)`
      : `${s.positions.share === "shape" ? "positions shared per shape" : "positions per site"} (seed ${s.positions.seed})`;

export const spectralPrimitive: Primitive<Spectral> = {
  tag: "Spectral",
  codec: struct("Spectral", {
    _tag: t.literal("Spectral"),
    coefficients: intIn(1, 1 << 28),
    scale: finite,
    positions: withDefault(PositionsCodec, defaultSpectralPositions),
    init: withDefault(literalOf("init", ["normal", "zeros"]), "normal"),
  }),
  composition: {
    kind: "additive",
    delta: (s, tensors, site) => {
      const [m, n] = site.shape as [number, number];
      // α·Re(IDFT2(S)) = Re(IDFT2(α·S)): the scale on the n coefficients, not the m × n result.
      return spectralDelta(tf.mul(tensors("spectrum"), s.scale) as tf.Tensor1D, tensors("positions") as tf.Tensor1D, m, n);
    },
    // ΔW[j,k] = α/(m·n) Σ_i c_i cos(2π(u_i j/m + v_i k/n)), position p_i = u_i·n + v_i: term by term.
    delta64: (s, values, dout, din) => {
      const c = values("spectrum");
      const positions = values("positions");
      const d = new Float64Array(dout * din);
      for (let i = 0; i < positions.length; i++) {
        const u = Math.floor(positions[i]! / din);
        const v = positions[i]! % din;
        for (let j = 0; j < dout; j++) {
          for (let k = 0; k < din; k++) d[j * din + k]! += (s.scale * c[i]! * Math.cos(2 * Math.PI * ((u * j) / dout + (v * k) / din))) / (dout * din);
        }
      }
      return d;
    },
  },
  show: (s) => `spectral(n=${s.coefficients}, α=${s.scale}${s.init === "zeros" ? ", zero init" : ""})`,
  formula: (s) => `ΔW = ${s.scale}·Re(IDFT2(S)), S zero but at ${s.coefficients} ${where(s)}`,
  // A spectrum needs a matrix with room for its coefficients.
  appliesTo: (s, site) => site.matrix && s.coefficients <= sizeOf(site.shape),
  count: (s) => s.coefficients,
  tensors: (s, site) => {
    const n = s.coefficients;
    const [dout, din] = site.shape as [number, number];
    // Weighted positions are drawn by the estimate rule; until then, uniform per site.
    const label = s.positions._tag === "Uniform" && s.positions.share === "shape" ? `spectral-positions:${dout}x${din}` : `spectral-positions:${site.name}`;
    return [
      { path: "spectrum", role: "spectrum", shape: [n], init: s.init === "normal" ? { _tag: "Normal", mean: 0, std: 1 } : { _tag: "Zeros" }, trainable: true },
      {
        path: "positions",
        role: "positions",
        shape: [n],
        trainable: false,
        init:
          s.positions._tag === "TorchRandperm"
            ? { _tag: "TorchRandperm", count: n, size: dout * din, seed: s.positions.seed }
            : { _tag: "DistinctIndices", count: n, size: dout * din, seed: s.positions.seed, label },
      },
    ];
  },
  startsAtIdentity: (s) => s.init === "zeros",
  needsEstimate: (s) => s.positions._tag === "Weighted",
  layoutScale: (s) => s.scale,
  arbitrary: fc
    .record({
      coefficients: fc.integer({ min: 1, max: 6 }),
      scale: fc.constantFrom(0.5, 2, 8),
      init: fc.constantFrom("normal" as const, "zeros" as const),
      positions: fc.oneof(
        fc.record({ _tag: fc.constant("Uniform" as const), seed: fc.integer({ min: 0, max: 9 }), share: fc.constantFrom("shape" as const, "site" as const) }),
        fc.record({ _tag: fc.constant("TorchRandperm" as const), seed: fc.integer({ min: 0, max: 9 }) }),
        // Drawn by a gradientEstimate rule, which the laws run.
        fc.record({ _tag: fc.constant("Weighted" as const), gamma: fc.constantFrom(1, 1.5), seed: fc.integer({ min: 0, max: 9 }) }),
      ),
    })
    .map((x): Spectral => ({ _tag: "Spectral", ...x })),
};

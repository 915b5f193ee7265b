import { method, type Method, target } from "../dsl/method.js";
import { gradientEstimate, once } from "../dsl/rule.js";
import { role } from "../dsl/selector.js";
import { type Role } from "../models/vitParams.js";
import { permuted, spectral } from "../dsl/transform.js";

export interface S2FTOptions {
  /** Trainable spectral coefficients per matrix (n): 3000 on q, v of ViT-B/16 is the paper's 0.08%. */
  readonly coefficients?: number;
  /** α in ΔW̄ = α·Re(IDFT2(F)) (FourierFT's ViT value). */
  readonly alpha?: number;
  /** γ in p(u, v) ∝ |DFT2(T⁻¹ΔŴ)|^γ (Eq. 7). */
  readonly gamma?: number;
  /** Batches of the gradient pre-estimate (Eq. 4). */
  readonly batches?: number;
  readonly seed?: number;
  readonly roles?: readonly [Role, ...Role[]];
}

/**
 * S²FT: FourierFT in a permuted domain. A `once` rule estimates ΔŴ = −Σ∇W L on the frozen
 * model, orders rows and columns by nearest-neighbour tours (Alg. 1) so that ΔŴ becomes smooth,
 * and draws the spectral positions ∝ |DFT2(T⁻¹ΔŴ)|^γ; only the n spectral values train.
 */
export const s2ft = (o: S2FTOptions = {}): Method => {
  const seed = o.seed ?? 0;
  return method({
    targets: [
      target(
        role(...(o.roles ?? ["q", "v"])),
        permuted(
          { rows: { _tag: "Tour", seed }, cols: { _tag: "Tour", seed } },
          spectral({ coefficients: o.coefficients ?? 3000, scale: o.alpha ?? 300, positions: { _tag: "Weighted", gamma: o.gamma ?? 1.5, seed } }),
        ),
      ),
    ],
    rules: [once(gradientEstimate({ batches: o.batches ?? 16, seed }))],
  });
};

import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { type Role } from "../models/vitParams.js";
import { spectral, type SpectralPositions } from "../dsl/transform.js";

export interface FourierFTOptions {
  /** Trainable spectral coefficients per matrix (n). */
  readonly coefficients?: number;
  /** α in ΔW = α·Re(IDFT2(S)). */
  readonly alpha?: number;
  readonly positions?: SpectralPositions;
  readonly init?: "normal" | "zeros";
  readonly roles?: readonly [Role, ...Role[]];
}

/** FourierFT (Gao et al. 2024): a sparse trainable spectrum on q and v; ViT defaults (code) n = 3000, α = 300. */
export const fourierFT = (o: FourierFTOptions = {}): Method =>
  method({
    targets: [
      target(
        role(...(o.roles ?? ["q", "v"])),
        spectral({
          coefficients: o.coefficients ?? 3000,
          scale: o.alpha ?? 300,
          ...(o.positions ? { positions: o.positions } : {}),
          ...(o.init ? { init: o.init } : {}),
        }),
      ),
    ],
  });

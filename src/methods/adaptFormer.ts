import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { parallelAdapter, quantized } from "../dsl/transform.js";

export interface AdaptFormerOptions {
  /** Bottleneck width: 8 in BAFT's tables, 64 in the AdaptFormer paper. */
  readonly bottleneck?: number;
  /** s in x + MLP(LN2(x)) + s·up(ReLU(down(x))); AdaptFormer fixes 0.1. */
  readonly scale?: number;
}

/** AdaptFormer (Chen et al. 2022): a parallel bottleneck beside every block's MLP, with biases. Not mergeable. */
export const adaptFormer = (o: AdaptFormerOptions = {}): Method =>
  method({ targets: [target(role("mlp"), parallelAdapter({ bottleneck: o.bottleneck ?? 8, scale: o.scale ?? 0.1 }))] });

/**
 * Bi-AdaptFormer (Jie et al. 2023): AdaptFormer without biases, down and up used at 1 bit
 * (straight-through gradient). The code's dropout 0.1 is not modelled, and up starts at zero
 * (the code draws it from a ±0.002 truncated normal; a zero matrix stays zero at 1 bit).
 */
export const biAdaptFormer = (o: AdaptFormerOptions = {}): Method =>
  method({ targets: [target(role("mlp"), quantized({ bits: 1 }, parallelAdapter({ bottleneck: o.bottleneck ?? 8, scale: o.scale ?? 0.1, bias: false })))] });

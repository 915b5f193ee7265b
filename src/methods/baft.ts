import { method, type Method } from "../dsl/method.js";
import { baftTerm, type FeaturePool, type Layers } from "../dsl/loss.js";

export interface BaftOptions {
  /** λ; the paper grid-searches {1e-8, …, 10} per task, 0.01 is its most frequent best value (Table 7). */
  readonly weight?: number;
  readonly pool?: FeaturePool;
  readonly layers?: Layers;
  readonly detachPredictions?: boolean;
}

/**
 * BAFT: no weights of its own, a loss term aligning each block's sample-similarity structure
 * with the predictions'. Combine with any weight method: `combine(lora(), head, baft())`.
 */
export const baft = (o: BaftOptions = {}): Method => method({ losses: [baftTerm(o)] });

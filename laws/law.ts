import type { Method } from "../src/dsl/method.js";
import type { VitConfig } from "../src/models/vitConfig.js";

/**
 * A law: a statement about any Method, checked on one random setting (a small ViT shape and a
 * seed that fixes weights, adapter values and inputs). `check` throws LawViolation when it fails.
 */
export interface Law {
  readonly name: string;
  readonly statement: string;
  readonly check: (method: Method, config: VitConfig, seed: number) => Promise<void>;
}

import type { Batch } from "../../src/data/dataset.js";
import { vitForward64 } from "../../src/interpreters/reference/vit64.js";
import type { VitConfig } from "../../src/models/vitConfig.js";

/** Σ over batches of the batch-mean cross-entropy, in float64 through the reference ViT: the oracle for gradient tests. */
export const crossEntropy64 = (config: VitConfig, weights64: Parameters<typeof vitForward64>[1], batches: readonly Batch[]): number =>
  batches.reduce((sum, b) => {
    const logits = vitForward64(config, weights64, Float64Array.from(b.images), b.count).logits;
    const k = config.classes;
    let ce = 0;
    for (let i = 0; i < b.count; i++) {
      const row = Array.from(logits.subarray(k * i, k * i + k));
      const max = Math.max(...row);
      ce += Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max - row[b.labels[i]!]!;
    }
    return sum + ce / b.count;
  }, 0);

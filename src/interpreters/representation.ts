import * as tf from "@tensorflow/tfjs-core";
import { inOrder, type Dataset } from "../data/dataset.js";
import type { VitOutput } from "../models/vit.js";
import { tokens } from "../models/vitConfig.js";
import type { Program } from "./compile/program.js";
import { linearCka64 } from "../losses/float64.js";
import { rowNormalise } from "../ops/similarity.js";
import { hostCopy } from "../util/hostRead.js";
import type { Counter } from "../util/counter.js";

/** Per-block diagnostics of one model (BAFT's A.7). */
export interface BlockDiagnostics {
  /** Mean over images of the average pairwise cosine between the tokens of a block's output (feature collapse: → 1). */
  readonly tokenCosine: readonly number[];
  /** Mean over images, heads and queries of −Σ p log p of a block's attention (nats; uniform attention is ln tokens). */
  readonly attentionEntropy: readonly number[];
}

export interface RepresentationMetrics {
  readonly examples: number;
  /** RIFT's "Sim": linear CKA between the pretrained and the tuned head-input features. */
  readonly sim: number;
  readonly pretrained: BlockDiagnostics;
  readonly tuned: BlockDiagnostics;
}

/** Per block: [Σ over images of the average pairwise token cosine, Σ over images·heads·queries of the attention entropy]. */
const blockSums = (out: VitOutput): tf.Tensor1D => {
  const sums = out.blocks.flatMap((block, l) => {
    const t = block.shape[1];
    const unit = rowNormalise(block);
    // Σ_{i≠j} cos(z_i, z_j) = ‖Σ_i ẑ_i‖² − t, averaged over the t(t − 1) ordered pairs.
    const pairwise = tf.div(tf.sub(tf.sum(tf.square(tf.sum(unit, 1)), 1), t), t * (t - 1));
    const p = out.attention[l]!;
    const entropy = tf.neg(tf.sum(tf.mul(p, tf.log(tf.maximum(p, 1e-30)))));
    return [tf.sum(pairwise), entropy];
  });
  return tf.stack(sums) as tf.Tensor1D;
};

/**
 * Representation metrics of a trained program on the first `examples` images of `data`
 * (held-out), against the pretrained backbone the program was compiled on; `counted` is told the
 * images done after each batch.
 */
export const representationMetrics = async (
  program: Program,
  data: Dataset,
  examples: number,
  batchSize = 100,
  counted: Counter = () => {},
): Promise<RepresentationMetrics> => {
  const width = program.config.width;
  const depth = program.config.depth;
  const n = Math.min(examples, data.count);
  const tuned = new Float64Array(n * width);
  const pretrained = new Float64Array(n * width);
  const totals = { tuned: new Float64Array(2 * depth), pretrained: new Float64Array(2 * depth) };
  let at = 0;
  for (const b of inOrder({ ...data, count: n }, batchSize)) {
    const [ft, fp, st, sp] = tf.tidy(() => {
      const images = tf.tensor4d(b.images, [b.count, ...data.shape]);
      const t = program.forward(images);
      const p = program.pretrainedForward(images);
      return [t.preLogits, p.preLogits, blockSums(t), blockSums(p)];
    });
    tuned.set(await hostCopy(ft!), at * width);
    pretrained.set(await hostCopy(fp!), at * width);
    (await hostCopy(st!)).forEach((v, i) => (totals.tuned[i]! += v));
    (await hostCopy(sp!)).forEach((v, i) => (totals.pretrained[i]! += v));
    for (const x of [ft, fp, st, sp]) x!.dispose();
    at += b.count;
    counted(at, n);
  }
  const queries = program.config.heads * tokens(program.config);
  const diagnostics = (sums: Float64Array): BlockDiagnostics => ({
    tokenCosine: Array.from({ length: depth }, (_, l) => sums[2 * l]! / n),
    attentionEntropy: Array.from({ length: depth }, (_, l) => sums[2 * l + 1]! / (n * queries)),
  });
  return { examples: n, sim: linearCka64(pretrained, tuned, n, width, width), pretrained: diagnostics(totals.pretrained), tuned: diagnostics(totals.tuned) };
};

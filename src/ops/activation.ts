import * as tf from "@tensorflow/tfjs-core";
import { gelu } from "./gelu.js";

/** tanh-approximated GELU, ½x(1 + tanh(√(2/π)(x + 0.044715x³))) (torch's `approximate="tanh"`). */
const tanhGelu = <T extends tf.Tensor>(x: T): T =>
  tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI))), 1));

/** OpenAI CLIP's QuickGELU, x·σ(1.702x). */
const quickGelu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(tf.mul(x, 1.702)));

/** The GELU variants ViTs use: exact (erf), tanh-approximated, and CLIP's QuickGELU. */
export const activations = ["erf", "tanh", "quick"] as const;
export type Activation = (typeof activations)[number];

/** The MLP activation a ViT config names. */
export const activation = <T extends tf.Tensor>(kind: Activation, x: T): T => (kind === "erf" ? gelu(x) : kind === "tanh" ? tanhGelu(x) : quickGelu(x));

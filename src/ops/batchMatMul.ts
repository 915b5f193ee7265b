import * as tf from "@tensorflow/tfjs-core";
import { customOp } from "./customOp.js";
import { blasInstalled } from "./wasmBlasMatMul.js";

const swapLast = (t: tf.Tensor): tf.Tensor => tf.transpose(t, t.rank === 2 ? [1, 0] : [0, 2, 1]);

/**
 * Whether a transpose flag costs nothing: everywhere but on tfjs's own wasm matmul, which runs
 * flagged products ~10× slower than plain ones (OpenBLAS, where it loads, takes flags for free).
 */
const flagsFree = () => tf.getBackend() !== "wasm" || blasInstalled();

/** a b with either operand's last two axes swapped: a flag where that is free, an explicit transpose elsewhere. */
export const matMulSwapped = <T extends tf.Tensor>(a: T, b: T, swapA: boolean, swapB: boolean): T =>
  (flagsFree() ? tf.matMul(a, b, swapA, swapB) : tf.matMul(swapA ? swapLast(a) : a, swapB ? swapLast(b) : b)) as T;

/** c = a b, or a bᵀ, with gradients that never use tfjs's own matMul gradient (flags regardless of backend). */
const productWith = (swapB: boolean) =>
  customOp<[tf.Tensor, tf.Tensor], tf.Tensor>((a, b, save) => {
    save([a, b]);
    return {
      value: matMulSwapped(a, b, false, swapB),
      gradFunc: (dy, saved) => {
        const [as, bs] = saved as [tf.Tensor, tf.Tensor];
        // c = a b: da = dy bᵀ, db = aᵀ dy; c = a bᵀ: da = dy b, db = dyᵀ a.
        return swapB
          ? [matMulSwapped(dy, bs, false, false), matMulSwapped(dy, as, true, false)]
          : [matMulSwapped(dy, bs, false, true), matMulSwapped(as, dy, true, false)];
      },
    };
  });

const product = productWith(false);

/** [batch, m, k] × [batch, k, n]. */
export const batchMatMul = product as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** [batch, m, k] × [batch, n, k]ᵀ: attention's q kᵀ. */
export const batchMatMulBt = productWith(true) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/** [m, k] × [k, n]. */
export const matMul2d = product as (a: tf.Tensor2D, b: tf.Tensor2D) => tf.Tensor2D;

import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { full } from "../dsl/transform.js";

/** BitFit (Ben Zaken et al. 2022): every bias term trains, LayerNorm biases included. */
export const bitFit = (): Method => method({ targets: [target(role("bias"), full)] });

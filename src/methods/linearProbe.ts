import { method, type Method, target } from "../dsl/method.js";
import { role } from "../dsl/selector.js";
import { full } from "../dsl/transform.js";

/** Train the classification head only (weight and bias); combine it with any method for a new task. */
export const linearProbe = (): Method => method({ targets: [target(role("head"), full)] });

import { method, type Method, target } from "../dsl/method.js";
import { all } from "../dsl/selector.js";
import { full } from "../dsl/transform.js";

/** Every parameter trains. */
export const fullFineTuning = (): Method => method({ targets: [target(all, full)] });

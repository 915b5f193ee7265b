import type { AdapterValue } from "../adapterParams.js";
import type { Method } from "../../dsl/method.js";
import type { Backbone } from "../../models/backbone.js";
import { adaptedWeights64, addedModules64 } from "./adapt64.js";
import { vitForward64, type Output64 } from "./vit64.js";

/** The adapted model's forward pass in float64, from the definitions: the laws' oracle (`keep`: stochastic depth's multipliers). */
export const referenceForward = (
  method: Method,
  backbone: Backbone,
  adapter: ReadonlyMap<string, AdapterValue>,
  images: Float64Array,
  n: number,
  keep?: Float64Array,
): Output64 =>
  vitForward64(
    backbone.config,
    adaptedWeights64(method, backbone.config, backbone.weights, adapter),
    images,
    n,
    addedModules64(method, backbone.config, adapter),
    keep,
  );

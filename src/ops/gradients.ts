/**
 * Gradient registration. tfjs-core registers no gradients, and its ESM subpath that would
 * cannot be imported by Node; the umbrella package's Node bundle registers them all (into
 * tfjs's global registry, shared with tfjs-core).
 */
import "@tensorflow/tfjs";

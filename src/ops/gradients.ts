import { createRequire } from "node:module";

/**
 * Gradient registration. tfjs-core registers no gradients, and its ESM subpath that would
 * cannot be imported by Node; the umbrella package's Node bundle registers them all (into
 * tfjs's global registry, shared with tfjs-core). Required rather than imported, so that the
 * published declarations do not pull in the umbrella's (tfjs-layers') types.
 */
createRequire(import.meta.url)("@tensorflow/tfjs");

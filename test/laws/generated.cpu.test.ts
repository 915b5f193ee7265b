import { generatedLaws } from "../support/generatedLaws.js";

// The cpu backend's own kernels (gather, scatter, the permutation's inverse) are not wasm's.
generatedLaws("cpu", 20);

/**
 * Loss terms added to cross-entropy, each with a weight λ. The spine defines the slot;
 * the terms themselves (BAFT, RIFT, RSC, L2-SP) are added by the loss-term work.
 */
export type LossTerm = never;

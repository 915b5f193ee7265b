/**
 * Schedule rules: when the trainable configuration changes and how. The spine defines the
 * slot; the rules themselves (DAF's reconfiguration, S²FT's prelude) arrive with their methods.
 */
export type Rule = never;

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // No wall-clock limit: a loaded or slower machine takes longer, and that is not a failure.
    // Bounds on work are CPU time measured against a reference command (test/support/cpuBudget.ts).
    testTimeout: 0,
    hookTimeout: 0,
    pool: "forks",
    // Test files (and the CLIs they start) run side by side: one wasm thread each. The thread
    // pool itself is tested on its own (test/train/wasmThreads.test.ts).
    env: { PEFT_WASM_THREADS: "1" },
  },
});

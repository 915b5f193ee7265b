import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Test files (and the CLIs they start) run side by side: one wasm thread each. The thread
    // pool itself is tested on its own (test/train/wasmThreads.test.ts).
    env: { PEFT_WASM_THREADS: "1" },
  },
});

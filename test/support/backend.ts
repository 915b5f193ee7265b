import { beforeAll } from "vitest";
import { loadBackend, type BackendName } from "../../src/train/backend.js";

/** Tests run on wasm unless PEFT_TEST_BACKEND says otherwise (CI runs the law suites on cpu too). */
export const testBackend = (process.env.PEFT_TEST_BACKEND ?? "wasm") as BackendName;

export const useBackend = (name: BackendName = testBackend): void => {
  beforeAll(() => loadBackend(name));
};

import { describe, it } from "vitest";
import { useBackend } from "../support/backend.js";
import { expectAdamWMatchesFloat64 } from "../support/adamw64.js";

describe("AdamW over several tensors as one flat vector", () => {
  useBackend();

  it("equals float64 AdamW per tensor (decay only where asked), and a reloaded state continues identically", () => expectAdamWMatchesFloat64());
});

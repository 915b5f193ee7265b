import { afterAll, beforeAll, describe, it } from "vitest";
import * as tf from "@tensorflow/tfjs-core";
import { loadBackend } from "../src/train/backend.js";
import { compile } from "../src/interpreters/compile/program.js";
import { empty } from "../src/dsl/method.js";
import { readHost } from "../src/util/hostRead.js";
import { expectClose } from "./support/close.js";
import { timmTiny, timmTinyIo } from "./support/fixtures.js";

describe.each(["wasm", "cpu"] as const)("timm's own outputs, on %s", (backend) => {
  beforeAll(() => loadBackend(backend));
  afterAll(() => tf.disposeVariables());

  it("the forward pass reproduces logits, pre-logits and every block's output", () => {
    const io = timmTinyIo();
    const program = compile(empty, timmTiny(), { seed: 0 });
    const images = io.get("images")!;
    const input = tf.tensor4d(images.data, images.shape as [number, number, number, number]);
    const tol = { atol: 1e-5, rtol: 1e-6 };
    expectClose(
      readHost(() => program.forward(input).logits),
      io.get("logits")!.data,
      tol,
      "logits",
    );
    expectClose(
      readHost(() => program.forward(input).preLogits),
      io.get("pre_logits")!.data,
      tol,
      "pre_logits",
    );
    for (const i of [0, 1]) {
      expectClose(
        readHost(() => program.forward(input).blocks[i]!),
        io.get(`blocks.${i}.output`)!.data,
        tol,
        `blocks.${i}.output`,
      );
    }
    input.dispose();
    program.dispose();
  });
});

import * as tf from "@tensorflow/tfjs-core";
import "../../src/ops/gradients.js";
import { describe, expect, it } from "vitest";
import { useBackend } from "../support/backend.js";

describe("Identity and same-dtype Cast share the buffer on wasm", () => {
  useBackend("wasm");

  it("clone and cast point at the source's buffer, keep their values after the source is disposed, and a dtype change still converts", async () => {
    const x = tf.tensor1d([1.5, -2, 3.25]);
    const copy = tf.clone(x);
    const same = tf.cast(x, "float32");
    expect(copy.dataId).toBe(x.dataId);
    expect(same.dataId).toBe(x.dataId);
    x.dispose();
    expect([...(await copy.data())]).toEqual([1.5, -2, 3.25]);
    expect([...(await same.data())]).toEqual([1.5, -2, 3.25]);
    const ints = tf.cast(copy, "int32");
    expect(ints.dtype).toBe("int32");
    expect([...(await ints.data())]).toEqual([1, -2, 3]);
    expect(ints.dataId).not.toBe(copy.dataId);
    tf.dispose([copy, same, ints]);
  });

  it("a variable's saved copy survives its assignment: the gradient of x² after x.assign uses the old x", () => {
    const v = tf.variable(tf.tensor1d([3, -1]));
    const { grads } = tf.variableGrads(() => {
      const y = tf.sum(tf.square(v));
      return y as tf.Scalar;
    }, [v]);
    v.assign(tf.tensor1d([100, 100]));
    expect([...grads[v.name]!.dataSync()]).toEqual([6, -2]);
    tf.dispose([v, grads[v.name]!]);
  });
});

import * as tf from "@tensorflow/tfjs-core";
import { createRequire } from "node:module";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);

/**
 * Let tfjs's wasm backend start its pthread pool under Node, which tfjs disables
 * (tensorflow/tfjs#3830): it reports no thread support under Node, and it hands emscripten its
 * worker and main script as `blob:` URLs, which Node's Worker cannot load. So: claim thread
 * support, keep each Blob's text, let `URL.createObjectURL` write that text to a temp file and
 * return its path, and send workers the package's own threaded-SIMD script instead of the Blob.
 * The C side caps the pool at min(n, 8, cores / 2); the reported core count is raised while the
 * backend starts so that `threads` can reach the machine's cores. Returns the undo for that.
 */
/**
 * The pool's threads only ever wait for work: once the backend is up they must not keep a
 * finished script alive. emscripten refs a worker whenever it runs a pthread on it, so `ref`
 * becomes a no-op on each.
 */
export const unrefWasmThreads = (module: unknown): void => {
  const pthread = (module as { PThread?: { unusedWorkers: Worker[]; runningWorkers: Worker[] } }).PThread;
  for (const w of [...(pthread?.unusedWorkers ?? []), ...(pthread?.runningWorkers ?? [])]) {
    w.unref();
    w.ref = () => w;
  }
};

export const enableWasmThreads = (threads: number): (() => void) => {
  tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", true);
  const texts = new WeakMap<Blob, string>();
  const NodeBlob = globalThis.Blob;
  class RememberingBlob extends NodeBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === "string")) texts.set(this, parts.join(""));
    }
  }
  globalThis.Blob = RememberingBlob as typeof Blob;
  const dir = mkdtempSync(join(tmpdir(), "peft-wasm-"));
  let files = 0;
  URL.createObjectURL = (blob: Blob) => {
    const text = texts.get(blob);
    if (text === undefined) throw new Error("peft-dsl wasm threads: a Blob without recorded text");
    const path = join(dir, `blob-${files++}.js`);
    writeFileSync(path, text);
    return path;
  };
  const mainScript = join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json")), "wasm-out", "tfjs-backend-wasm-threaded-simd.js");
  const { Worker } = require("node:worker_threads") as typeof import("node:worker_threads");
  const post = Worker.prototype.postMessage;
  Worker.prototype.postMessage = function (this: InstanceType<typeof Worker>, message: unknown, transfer?: readonly unknown[]) {
    const m = message as { cmd?: string; urlOrBlob?: unknown };
    const fixed = m?.cmd === "load" && m.urlOrBlob instanceof NodeBlob ? { ...m, urlOrBlob: mainScript } : message;
    return post.call(this, fixed, transfer as never);
  };
  const os = require("node:os") as typeof import("node:os");
  const cpus = os.cpus;
  os.cpus = () => Array.from({ length: Math.max(2 * threads, cpus().length) }, () => cpus()[0]!);
  return () => {
    os.cpus = cpus;
  };
};

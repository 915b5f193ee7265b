import { loadBackend, releaseBackend, wasmThreads, type BackendName } from "../train/backend.js";
import { benchBatch, benchConfig, benchmark } from "./benchmark.js";

/** `npm run bench [-- BACKEND [METHOD…]]`: one JSON document on stdout, progress on stderr. */
const backend = (process.argv[2] ?? "wasm") as BackendName;
const only = process.argv.slice(3);
const description = await loadBackend(backend);
process.stderr.write(`bench on ${description}\n`);
const started = performance.now();
const result = await benchmark(20, (line) => process.stderr.write(`${line}\n`), only);
process.stdout.write(
  `${JSON.stringify(
    {
      backend: description,
      threads: backend === "wasm" ? wasmThreads() : null,
      config: benchConfig,
      batch: benchBatch,
      ...result,
      seconds: (performance.now() - started) / 1000,
    },
    null,
    2,
  )}\n`,
);
await releaseBackend();

import { backendNames, loadBackend, releaseBackend, wasmThreads, type BackendName } from "../train/backend.js";
import { benchMethods, benchmark, presets } from "./benchmark.js";

/**
 * `npm run bench [-- BACKEND] [--preset small|vit-b16] [METHOD…]`: one JSON document on stdout,
 * progress on stderr. `small` (default) times every method on the small ViT; `vit-b16` LoRA on
 * ViT-B/16 at 224.
 */
const args = process.argv.slice(2);
const refuse: (line: string) => never = (line) => {
  process.stderr.write(`bench: ${line}\n`);
  process.exit(2);
};
if (args.includes("--help") || args.includes("-h")) {
  process.stdout.write(
    [
      "usage: npm run bench [-- BACKEND] [--preset NAME] [METHOD…]",
      `  BACKEND   one of ${backendNames.join(", ")} (default wasm)`,
      `  --preset  ${Object.keys(presets).join(" | ")} (default small)`,
      `  METHOD    time only these besides LoRA: ${Object.keys(benchMethods)
        .map((m) => JSON.stringify(m))
        .join(", ")}`,
      "One JSON document on stdout (per method: ms/step, GFLOP/s, roofline, ratio to LoRA); progress on stderr.",
      "",
    ].join("\n"),
  );
  process.exit(0);
}
const at = args.indexOf("--preset");
const presetName = at < 0 ? "small" : args[at + 1];
const rest = at < 0 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
const preset = presetName === undefined ? undefined : presets[presetName];
if (preset === undefined) refuse(`--preset expects one of ${Object.keys(presets).join(", ")}, got ${JSON.stringify(presetName ?? null)}`);
const backend = (rest[0] ?? "wasm") as BackendName;
if (!backendNames.includes(backend)) refuse(`BACKEND expects one of ${backendNames.join(", ")}, got ${JSON.stringify(backend)}`);
const only = rest.slice(1);
const unknown = only.filter((m) => !(m in benchMethods));
if (unknown.length > 0)
  refuse(
    `unknown method ${JSON.stringify(unknown[0])}; expected one of ${Object.keys(benchMethods)
      .map((m) => JSON.stringify(m))
      .join(", ")}`,
  );
const description = await loadBackend(backend);
process.stderr.write(`bench (${presetName}) on ${description}\n`);
const started = performance.now();
const result = await benchmark(preset, (line) => process.stderr.write(`${line}\n`), only);
process.stdout.write(
  `${JSON.stringify(
    {
      backend: description,
      threads: backend === "wasm" ? wasmThreads() : null,
      preset: presetName,
      config: preset.config,
      batch: preset.batch,
      ...(preset.microBatch === undefined ? {} : { microBatch: preset.microBatch }),
      ...result,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      seconds: (performance.now() - started) / 1000,
    },
    null,
    2,
  )}\n`,
);
await releaseBackend();

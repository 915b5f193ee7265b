import * as tf from "@tensorflow/tfjs-core";
import { resolve } from "node:path";
import { Effect } from "effect";
import { backendFlag, intFlag, newFileFlag, parse, requireFlag } from "../args.js";
import { attempt, runCommand, withInput } from "../runCommand.js";
import { compile } from "../../interpreters/compile/program.js";
import { readAdapter } from "../../interpreters/adapterFile.js";
import { empty } from "../../dsl/method.js";
import { withZeroHead, type Backbone } from "../../models/backbone.js";
import { readBackboneFile } from "../../train/loadBackbone.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../../models/safetensors.js";
import { BadInput } from "../../train/errors.js";
import { readInputFile } from "../../train/readInputFile.js";
import { TfBackend } from "../../train/backend.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { downloadHost } from "../../util/hostRead.js";

export const forwardUsage = "peft forward --weights CHECKPOINT [--arch TIMM_NAME] [--image N] [--adapter A.safetensors] --input X.safetensors --out Y.safetensors [--strict] [--backend B]";

/** Tensors holding NaN or ±Inf, with their counts: such a forward pass gives NaN logits without a word otherwise. */
const nonFinite = (tensors: Iterable<readonly [string, ArrayLike<number>]>, where: string): string[] => {
  const found: string[] = [];
  for (const [name, data] of tensors) {
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
    if (bad > 0) found.push(`${where}: ${bad} non-finite value(s) in ${name}`);
  }
  return found;
};


const sameShape = (a: Backbone["config"], b: Backbone["config"]) =>
  (["image", "channels", "patch", "width", "depth", "heads", "mlpRatio"] as const).every((k) => a[k] === b[k]);

/** Logits of a backbone (optionally with an unmerged adapter) on `images` from a safetensors file. */
export const forward = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values } = parse(argv, { weights: { type: "string" }, arch: { type: "string" }, image: { type: "string" }, adapter: { type: "string" }, input: { type: "string" }, out: { type: "string" }, strict: { type: "boolean" }, backend: { type: "string" } });
      const weightsPath = resolve(requireFlag("weights", values.weights));
      const image = intFlag("image", values.image, 1);
      let backbone = readBackboneFile(weightsPath, "--weights", "", { ...(values.arch === undefined ? {} : { arch: values.arch as string }), ...(image === undefined ? {} : { image }) });
      const adapter = values.adapter === undefined ? undefined : readAdapter(readInputFile(resolve(values.adapter as string), "--adapter"), values.adapter as string);
      if (adapter) {
        if (!sameShape(adapter.config, backbone.config)) throw new BadInput({ lines: [`--adapter was trained on a different backbone shape (${JSON.stringify(adapter.config)})`] });
        if (adapter.head === "reset") backbone = withZeroHead(backbone, adapter.config.classes);
      }
      const inputPath = resolve(requireFlag("input", values.input));
      const file = readSafetensors(readInputFile(inputPath, "--input"), inputPath);
      const images = file.tensors.get("images");
      const c = backbone.config;
      if (!images) throw new BadInput({ lines: [`--input: no tensor named "images" in ${inputPath}`] });
      const [n, h, w, ch] = images.shape;
      if (images.shape.length !== 4 || h !== c.image || w !== c.image || ch !== c.channels) {
        throw new BadInput({ lines: [`--input: images must be [N, ${c.image}, ${c.image}, ${c.channels}] (NHWC float32), got ${JSON.stringify(images.shape)}`] });
      }
      const data = toFloat32(images, "images");
      const out = newFileFlag("out", values.out);
      const warnings = [
        ...nonFinite([...backbone.weights].map(([k, t]) => [k, t.data] as const), "--weights"),
        ...nonFinite(adapter?.values ?? [], "--adapter"),
        ...nonFinite([["images", data]], "--input"),
      ];
      if (warnings.length > 0 && values.strict === true) throw new BadInput({ lines: [...warnings, "(--strict: refused; without it the logits would be computed and warned about)"] });
      for (const w of warnings) process.stderr.write(`peft: warning: ${w}\n`);
      return { backbone, adapter, data, n: n!, out, backend: backendFlag(values.backend) };
    },
    (input) =>
      runCommand(
        Effect.gen(function* () {
          process.stderr.write(`backend: ${(yield* TfBackend).description}\n`);
          const program = yield* Effect.acquireRelease(
            attempt(() => {
              const p = compile(input.adapter?.method ?? empty, input.backbone, { seed: 0 });
              if (input.adapter) p.setValues(input.adapter.values);
              return p;
            }),
            (p) => Effect.sync(() => p.dispose()),
          );
          const c = input.backbone.config;
          const logits = new Float32Array(input.n * c.classes);
          const size = c.image * c.image * c.channels;
          for (let at = 0; at < input.n; at += 256) {
            const m = Math.min(256, input.n - at);
            const out = yield* Effect.promise(() => downloadHost(() => program.forward(tf.tensor4d(input.data.subarray(at * size, (at + m) * size), [m, c.image, c.image, c.channels])).logits));
            logits.set(out, at * c.classes);
          }
          const badLogits = nonFinite([["logits", logits]], "output");
          for (const w of badLogits) process.stderr.write(`peft: warning: ${w}\n`);
          yield* attempt(() => writeFileAtomic(input.out, writeSafetensors([{ name: "logits", shape: [input.n, c.classes], data: logits }])));
          process.stdout.write(`wrote logits [${input.n}, ${c.classes}] to ${input.out}\n`);
        }),
        input.backend,
      ),
  );

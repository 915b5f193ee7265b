import * as tf from "@tensorflow/tfjs-core";
import { resolve } from "node:path";
import { Effect } from "effect";
import { Command } from "effect/cli";
import { newFilePath } from "../newFilePath.js";
import { arch, backend, integer, optional, text, required, toggle } from "../flags.js";
import { archOption } from "../backboneConfig.js";
import { attempt, exitCode, runCommand, withInput } from "../runCommand.js";
import { compile } from "../../interpreters/compile/program.js";
import { readAdapter } from "../../interpreters/adapterFile.js";
import { empty } from "../../dsl/method.js";
import { withZeroHead, type Backbone } from "../../models/backbone.js";
import { backbonePath, readBackboneFile } from "../../train/loadBackbone.js";
import { readSafetensors, toFloat32, writeSafetensors } from "../../models/safetensors.js";
import { BadInput } from "../../train/errors.js";
import { readInputFile } from "../../train/readInputFile.js";
import { TfBackend } from "../../train/backend.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";
import { downloadHost } from "../../util/hostRead.js";
import { nonFiniteCount } from "../../util/nonFinite.js";

/** Tensors holding NaN or ±Inf, with their counts: such a forward pass gives NaN logits without a word otherwise. */
const nonFinite = (tensors: Iterable<readonly [string, ArrayLike<number>]>, where: string): string[] => {
  const found: string[] = [];
  for (const [name, data] of tensors) {
    const bad = nonFiniteCount(data);
    if (bad > 0) found.push(`${where}: ${bad} non-finite value(s) in ${name}`);
  }
  return found;
};

const sameShape = (a: Backbone["config"], b: Backbone["config"]) =>
  (["image", "channels", "patch", "width", "depth", "heads", "mlpRatio"] as const).every((k) => a[k] === b[k]);

const flags = {
  weights: required(
    text("weights", "CHECKPOINT"),
    'the backbone: our safetensors, a timm safetensors with config.json beside it, timm\'s ViT .npz, or "default" (the embedded demo backbone)',
  ),
  arch,
  image: optional(integer("image", 1), "the image side to run at, resampling the position embeddings (default: the checkpoint's)"),
  adapter: optional(text("adapter", "A.safetensors"), "an adapter file (a run's adapter.safetensors, or peft import's) applied unmerged"),
  input: required(text("input", "X.safetensors"), "a tensor named images, [N, H, W, C] float32, normalised as the backbone expects"),
  out: required(text("out", "Y.safetensors"), "where to write the logits [N, classes] (a new file)"),
  strict: toggle("strict", "refuse (exit 2) weights, adapter values or images with NaN or ±Inf instead of warning"),
  backend: backend(),
};

/** Logits of a backbone (optionally with an unmerged adapter) on `images` from a safetensors file. */
export const forward = Command.make(
  "forward",
  flags,
  exitCode((args: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        let backbone = readBackboneFile(backbonePath(args.weights, process.cwd()), "--weights", "", {
          ...archOption(args.arch),
          ...(args.image === undefined ? {} : { image: args.image }),
        });
        const adapter = args.adapter === undefined ? undefined : readAdapter(readInputFile(resolve(args.adapter), "--adapter"), args.adapter);
        if (adapter) {
          if (!sameShape(adapter.config, backbone.config))
            throw new BadInput({ lines: [`--adapter was trained on a different backbone shape (${JSON.stringify(adapter.config)})`] });
          if (adapter.head === "reset") backbone = withZeroHead(backbone, adapter.config.classes);
        }
        const inputPath = resolve(args.input);
        const file = readSafetensors(readInputFile(inputPath, "--input"), inputPath);
        const images = file.tensors.get("images");
        const c = backbone.config;
        if (!images) throw new BadInput({ lines: [`--input: no tensor named "images" in ${inputPath}`] });
        const [n, h, w, ch] = images.shape;
        if (images.shape.length !== 4 || h !== c.image || w !== c.image || ch !== c.channels) {
          throw new BadInput({
            lines: [`--input: images must be [N, ${c.image}, ${c.image}, ${c.channels}] (NHWC float32), got ${JSON.stringify(images.shape)}`],
          });
        }
        const data = toFloat32(images, "images");
        const out = newFilePath("--out", args.out);
        const warnings = [
          ...nonFinite(
            [...backbone.weights].map(([k, t]) => [k, t.data] as const),
            "--weights",
          ),
          ...nonFinite(adapter?.values ?? [], "--adapter"),
          ...nonFinite([["images", data]], "--input"),
        ];
        if (warnings.length > 0 && args.strict)
          throw new BadInput({ lines: [...warnings, "(--strict: refused; without it the logits would be computed and warned about)"] });
        for (const w of warnings) process.stderr.write(`peft: warning: ${w}\n`);
        return { backbone, adapter, data, n: n!, out, backend: args.backend };
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
              const out = yield* Effect.promise(() =>
                downloadHost(() => program.forward(tf.tensor4d(input.data.subarray(at * size, (at + m) * size), [m, c.image, c.image, c.channels])).logits),
              );
              logits.set(out, at * c.classes);
            }
            const badLogits = nonFinite([["logits", logits]], "output");
            for (const w of badLogits) process.stderr.write(`peft: warning: ${w}\n`);
            yield* attempt(() => writeFileAtomic(input.out, writeSafetensors([{ name: "logits", shape: [input.n, c.classes], data: logits }])));
            process.stdout.write(`wrote logits [${input.n}, ${c.classes}] to ${input.out}\n`);
          }),
          input.backend,
        ),
    ),
  ),
).pipe(
  Command.withDescription("logits of a checkpoint (optionally with an unmerged adapter) on images"),
  Command.withExamples([
    {
      command: "peft forward --weights runs/lora/merged.safetensors --input x.safetensors --out logits.safetensors",
      description: "a trained run's merged model on a batch of images",
    },
    {
      command: "peft forward --weights ViT-B_16.npz --adapter lora.safetensors --input x.safetensors --out y.safetensors",
      description: "timm's checkpoint with an imported adapter applied unmerged",
    },
  ]),
);

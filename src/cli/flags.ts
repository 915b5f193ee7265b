import { Option } from "effect";
import { Argument, Flag } from "effect/cli";
import { backendNames, type BackendName } from "../train/backend.js";

/** A flag with a default, the default said in its help line (effect/cli's help does not show defaults). */
export const defaulted = <A>(flag: Flag.Flag<A>, value: A, description: string): Flag.Flag<A> =>
  flag.pipe(Flag.withDescription(`${description} (default: ${String(value)})`), Flag.withDefault(value));

/** A flag that may be left out: `undefined` then. */
export const optional = <A>(flag: Flag.Flag<A>, description: string): Flag.Flag<A | undefined> =>
  flag.pipe(Flag.withDescription(description), Flag.optional, Flag.map(Option.getOrUndefined));

/** A required flag. */
export const required = <A>(flag: Flag.Flag<A>, description: string): Flag.Flag<A> => flag.pipe(Flag.withDescription(description));

/** An integer flag no smaller than `min`. */
export const integer = (name: string, min: number): Flag.Flag<number> =>
  Flag.Int(name).pipe(
    Flag.filter(
      (v) => v >= min,
      () => `an integer ≥ ${min}`,
    ),
  );

/** A switch: off unless given. */
export const toggle = (name: string, description: string): Flag.Flag<boolean> =>
  Flag.Boolean(name).pipe(Flag.withDescription(description), Flag.withDefault(false));

/** A string flag, its value named in the help (DIR, CHECKPOINT, TIME…). */
export const text = (name: string, metavar: string): Flag.Flag<string> => Flag.String(name).pipe(Flag.withMetavar(metavar));

export const positional = (name: string, description: string): Argument.Argument<string> => Argument.String(name).pipe(Argument.withDescription(description));

export const backend = (fallback: BackendName = "auto"): Flag.Flag<BackendName> =>
  defaulted(Flag.Literals("backend", backendNames), fallback, "tfjs backend; auto takes the first that loads of gpu, node, wasm, cpu");

export const seed = (description: string) => optional(integer("seed", 0), description);

export const epochs = optional(integer("epochs", 1), "epochs to train (default: the experiment's)");

export const arch = optional(text("arch", "TIMM_NAME"), "the timm architecture of a bare checkpoint without config.json, such as vit_base_patch16_224");

export const backbone = optional(
  text("backbone", "vit-b16|CHECKPOINT"),
  "count against a preset or a checkpoint (default: the experiment's backbone, else the demo ViT)",
);

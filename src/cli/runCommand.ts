import { Cause, Data, Effect, Exit, Option, type Scope } from "effect";
import { BackendUnavailable, tfBackendLayer, type BackendName, type TfBackend } from "../train/backend.js";
import { BadInput, IoFailure, NanLoss } from "../train/errors.js";
import { MethodError } from "../interpreters/methodError.js";
import { SafetensorsError } from "../models/safetensors.js";
import { WasmHeapFull } from "../ops/wasmHeapGuard.js";

export type CliError = BadInput | NanLoss | IoFailure | BackendUnavailable;

/** Exit codes: 0 success, 1 failure (I/O, a law broken, a bug), 2 bad input, 3 loss or gradient not finite. */
const codeOf = (e: unknown): number => (e instanceof BadInput ? 2 : e instanceof NanLoss ? 3 : 1);

const report = (e: unknown): number => {
  const code = codeOf(e);
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`peft: ${message}\n`);
  const understood = e instanceof IoFailure || e instanceof BackendUnavailable || e instanceof WasmHeapFull;
  if (code === 1 && !understood && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
};

/** Run a command's Effect with the chosen tfjs backend; print errors; return the exit code. */
export const runCommand = async <A>(effect: Effect.Effect<A, CliError, TfBackend | Scope.Scope>, backend: BackendName): Promise<number> => {
  const exit = await Effect.runPromiseExit(Effect.scoped(effect).pipe(Effect.provide(tfBackendLayer(backend))));
  if (Exit.isSuccess(exit)) return 0;
  const failure = Cause.findErrorOption(exit.cause);
  if (Option.isSome(failure)) return report(failure.value);
  if (Cause.hasInterruptsOnly(exit.cause)) {
    process.stderr.write("peft: interrupted\n");
    return 130;
  }
  return report(Cause.squash(exit.cause));
};

const isCliError = (e: unknown): e is CliError => e instanceof BadInput || e instanceof NanLoss || e instanceof IoFailure || e instanceof BackendUnavailable;

/**
 * Run synchronous command code: its typed errors fail the Effect, input errors from the
 * interpreters (a method that does not fit, a corrupt file) become BadInput, anything else is a bug.
 */
export const attempt = <A>(f: () => A): Effect.Effect<A, CliError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(f());
    } catch (e) {
      if (isCliError(e)) return Effect.fail(e);
      if (e instanceof MethodError || e instanceof SafetensorsError) return Effect.fail(new BadInput({ lines: [e.message] }));
      return Effect.die(e);
    }
  });

/** Validate the input first (exit 2, nothing loaded or written on failure), then run. */
export const withInput = async <I>(prepare: () => I, run: (input: I) => Promise<number>): Promise<number> => {
  const input = await Effect.runPromiseExit(attempt(prepare));
  if (Exit.isSuccess(input)) return run(input.value);
  const failure = Cause.findErrorOption(input.cause);
  return report(Option.isSome(failure) ? failure.value : Cause.squash(input.cause));
};

/** A command's exit code other than 0, carried out of effect/cli's runner to the process. */
export class CommandExit extends Data.TaggedError("CommandExit")<{ readonly code: number }> {}

/** An effect/cli handler from a command's code, which reports its own errors and returns the exit code. */
export const exitCode =
  <I>(run: (input: I) => Promise<number>) =>
  (input: I): Effect.Effect<void, CommandExit> =>
    Effect.promise(() => run(input)).pipe(Effect.flatMap((code) => (code === 0 ? Effect.void : Effect.fail(new CommandExit({ code })))));

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Cause, Effect, Exit, Layer, Option } from "effect";
import { CliConfig, CliError, CliOutput, Command, GlobalFlag } from "effect/cli";
import * as NodeChildProcessSpawner from "@effect/platform-node-shared/NodeChildProcessSpawner";
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem";
import * as NodePath from "@effect/platform-node-shared/NodePath";
import * as NodeStdio from "@effect/platform-node-shared/NodeStdio";
import * as NodeTerminal from "@effect/platform-node-shared/NodeTerminal";
import { count, describe } from "./commands/inspect.js";
import { demo } from "./commands/demo.js";
import { forward } from "./commands/forward.js";
import { laws } from "./commands/laws.js";
import { pretrain } from "./commands/pretrain.js";
import { train } from "./commands/train.js";
import { sweep } from "./commands/sweep.js";
import { script } from "./commands/script.js";
import { gather } from "./commands/gather.js";
import { report } from "./commands/report.js";
import { exportRun, importHf } from "./commands/hfPeft.js";
import { exportImages } from "./commands/exportImages.js";
import { CommandExit } from "./runCommand.js";
import { packageRoot } from "../util/packageRoot.js";

const exitCodes = "exit codes: 0 ok, 1 failure, 2 bad input (nothing written), 3 loss or gradient not finite (last good checkpoint kept)";

const peft = Command.make("peft").pipe(
  Command.withDescription(`PEFT methods for vision transformers as typed descriptions, compiled to TensorFlow.js.\n  ${exitCodes}`),
  Command.withSubcommands([train, count, describe, laws, forward, pretrain, sweep, script, gather, exportRun, importHf, exportImages, report, demo]),
);

const formatter = CliOutput.defaultFormatter({ colors: false, globalFlags: "summary" });

/** Help on stdout; a command line that does not parse on stderr, with its usage and where the help is. */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.sync(() => {
      if (event._tag === "Help") process.stdout.write(`${formatter.formatHelpDoc(event.helpDoc)}\n`);
      else if (event._tag === "Version") process.stdout.write(`${formatter.formatVersion(event.name, event.version)}\n`);
      else {
        // A mistyped command leaves its flags unparsed: report the command (with its suggestion), not them.
        const unknown = event.errors.filter((e) => e._tag === "UnknownSubcommand");
        const errors = formatter
          .formatErrors(unknown.length > 0 ? unknown : event.errors)
          .replace(/^\s*ERRORS?\n/, "")
          .replace(/^ {2}/gm, "");
        process.stderr.write(
          `peft: ${errors.trim()}\n\nusage: ${event.helpDoc.usage}\n(${event.commandPath.join(" ")} --help lists every flag, its default and examples)\n`,
        );
      }
    }),
};

const services = Layer.mergeAll(
  Layer.provideMerge(NodeChildProcessSpawner.layer, Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, NodeTerminal.layer)),
  CliOutput.layerPresenter(presenter),
  // No wizard, completions or log level: a flag a command does not list is an error.
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] }),
);

const version = (): string => (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;

/** Run `peft ARGV…`; resolves to the exit code (2 for a command line that does not parse, or none given). */
export const runCli = async (argv: readonly string[]): Promise<number> => {
  const exit = await Effect.runPromiseExit(Command.runWith(peft, { version: version() })(argv).pipe(Effect.provide(services)));
  if (Exit.isSuccess(exit)) return 0;
  const error = Cause.findErrorOption(exit.cause);
  if (Option.isSome(error) && error.value instanceof CommandExit) return error.value.code;
  if (Option.isSome(error) && CliError.isCliError(error.value)) return 2;
  process.stderr.write(`peft: ${String(Cause.squash(exit.cause))}\n`);
  return 1;
};

import { decodeWith } from "../../util/codecKit.js";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isLeft } from "fp-ts/lib/Either.js";
import { Command, Flag } from "effect/cli";
import { defaulted, positional } from "../flags.js";
import { exitCode, withInput } from "../runCommand.js";
import { readJson } from "../readInput.js";
import { TaskCodec } from "../../dsl/codecs.js";
import { miniVtabNames } from "../../dsl/miniVtab.js";
import { exportTaskImages, type ImageLayout } from "../../data/exportImages.js";
import { taskImages, TaskError, type InMemoryTask } from "../../data/task.js";
import { taskClasses } from "../../dsl/experiment.js";
import { BadInput } from "../../train/errors.js";
import { streamProgress } from "../../train/progress.js";
import { writeDirectoryAtomic } from "../../util/atomicWrite.js";

/** A mini-VTAB name (the codec's defaults) or a JSON file holding an experiment or a bare task. */
const readTask = (arg: string): InMemoryTask => {
  const isFile = arg.endsWith(".json") || existsSync(arg);
  const json = isFile ? readJson(arg) : { _tag: "MiniVtab", name: arg };
  const raw = typeof json === "object" && json !== null && "data" in json ? (json as { data: unknown }).data : json;
  const decoded = decodeWith(TaskCodec, raw);
  const where = isFile ? `${arg}: data` : "TASK";
  if (isLeft(decoded))
    throw new BadInput({
      lines: isFile
        ? decoded.left.map((l) => `${where}: ${l}`)
        : [`TASK: expected a mini-VTAB name (${miniVtabNames.join(", ")}) or a JSON file, got ${JSON.stringify(arg)}`],
    });
  const task = decoded.right;
  if (task._tag === "ImageFolder" || task._tag === "ImageList")
    throw new BadInput({ lines: [`${where}: is already image files (${task._tag}); expected MNIST or mini-VTAB`] });
  return task;
};

/** An in-memory task (mini-VTAB or MNIST digits) written as PNG files in the ImageFolder or VTAB-1k layout. */
const flags = {
  task: positional("TASK", `a mini-VTAB name (${miniVtabNames.join(", ")}) or an experiment / task JSON file whose data is MNIST or mini-VTAB`),
  dir: positional("DIR", "a new directory for the images"),
  layout: defaulted(
    Flag.Literals("layout", ["folder", "vtab1k"]),
    "folder",
    "folder: train/val/test/<class>/*.png (ImageFolder); vtab1k: images/ with the lists train800.txt, val200.txt, train800val200.txt, test.txt (ImageList)",
  ),
};

export const exportImages = Command.make(
  "export-images",
  flags,
  exitCode(({ task: taskArg, dir, layout }: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const out = resolve(dir);
        if (existsSync(out)) throw new BadInput({ lines: [`DIR: ${out} already exists; choose a new directory`] });
        if (!existsSync(dirname(out))) throw new BadInput({ lines: [`DIR: the parent folder ${dirname(out)} does not exist`] });
        const task = readTask(taskArg);
        try {
          return { splits: taskImages(task), classes: taskClasses(task), out, layout: layout satisfies ImageLayout };
        } catch (e) {
          throw e instanceof TaskError ? new BadInput({ lines: [e.message] }) : e;
        }
      },
      async ({ splits, classes, out, layout }) => {
        const progress = streamProgress();
        let count = 0;
        await writeDirectoryAtomic(out, async (dir) => {
          count = await exportTaskImages(splits, classes, dir, layout, (done, total) => progress.counted("writing images", done, total));
        });
        const data =
          layout === "folder"
            ? `{ "_tag": "ImageFolder", "root": "${out}", "folders": { "train": "train", "val": "val", "test": "test" } }`
            : `{ "_tag": "ImageList", "root": "${out}" }`;
        process.stdout.write(`wrote ${count} images to ${out}\ntrain on them with "data": ${data}\n`);
        return 0;
      },
    ),
  ),
).pipe(
  Command.withDescription("an MNIST or mini-VTAB task as PNG files, in the image-folder or the VTAB-1k list layout, to train on as files"),
  Command.withExamples([
    { command: "peft export-images examples/experiments/lora.json digits --layout vtab1k", description: "the demo's task as a VTAB-1k folder" },
  ]),
);

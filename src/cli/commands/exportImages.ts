import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { isLeft } from "fp-ts/lib/Either.js";
import { parse } from "../args.js";
import { withInput } from "../runCommand.js";
import { readJson } from "../readInput.js";
import { decodeWith, TaskCodec } from "../../dsl/codecs.js";
import { miniVtabNames } from "../../dsl/miniVtab.js";
import { exportTaskImages, type ImageLayout } from "../../data/exportImages.js";
import { taskImages, TaskError, type InMemoryTask } from "../../data/task.js";
import { taskClasses } from "../../dsl/experiment.js";
import { BadInput } from "../../train/errors.js";
import { streamProgress } from "../../train/progress.js";
import { writeDirectoryAtomic } from "../../util/atomicWrite.js";

export const exportImagesUsage = `peft export-images TASK DIR --layout folder|vtab1k   (TASK: a mini-VTAB name — ${miniVtabNames.join(", ")} — or an experiment / task JSON file whose data is MNIST or mini-VTAB)`;

/** A mini-VTAB name (the codec's defaults) or a JSON file holding an experiment or a bare task. */
const readTask = (arg: string): InMemoryTask => {
  const isFile = arg.endsWith(".json") || existsSync(arg);
  const json = isFile ? readJson(arg) : { _tag: "MiniVtab", name: arg };
  const raw = typeof json === "object" && json !== null && "data" in json ? (json as { data: unknown }).data : json;
  const decoded = decodeWith(TaskCodec, raw);
  const where = isFile ? `${arg}: data` : "TASK";
  if (isLeft(decoded)) throw new BadInput({ lines: isFile ? decoded.left.map((l) => `${where}: ${l}`) : [`TASK: expected a mini-VTAB name (${miniVtabNames.join(", ")}) or a JSON file, got ${JSON.stringify(arg)}`] });
  const task = decoded.right;
  if (task._tag === "ImageFolder" || task._tag === "ImageList") throw new BadInput({ lines: [`${where}: is already image files (${task._tag}); expected MNIST or mini-VTAB`] });
  return task;
};

/** An in-memory task (mini-VTAB or MNIST digits) written as PNG files in the ImageFolder or VTAB-1k layout. */
export const exportImages = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { layout: { type: "string" } });
      if (positionals.length !== 2) throw new BadInput({ lines: [`expected TASK and DIR, got ${positionals.length === 0 ? "none" : positionals.join(" ")} (${exportImagesUsage})`] });
      const layout = values.layout ?? "folder";
      if (layout !== "folder" && layout !== "vtab1k") throw new BadInput({ lines: [`--layout: expected "folder" or "vtab1k", got ${JSON.stringify(layout)}`] });
      const out = resolve(positionals[1]!);
      if (existsSync(out)) throw new BadInput({ lines: [`DIR: ${out} already exists; choose a new directory`] });
      if (!existsSync(dirname(out))) throw new BadInput({ lines: [`DIR: the parent folder ${dirname(out)} does not exist`] });
      const task = readTask(positionals[0]!);
      try {
        return { splits: taskImages(task), classes: taskClasses(task), out, layout: layout as ImageLayout };
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
      const data = layout === "folder" ? `{ "_tag": "ImageFolder", "root": "${out}", "folders": { "train": "train", "val": "val", "test": "test" } }` : `{ "_tag": "ImageList", "root": "${out}" }`;
      process.stdout.write(`wrote ${count} images to ${out}\ntrain on them with "data": ${data}\n`);
      return 0;
    },
  );

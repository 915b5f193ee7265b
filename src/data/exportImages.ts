import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import type { Counter } from "../util/counter.js";
import { mnistSide } from "./mnist.js";
import type { RawSplit } from "./task.js";

export type ImageLayout = "folder" | "vtab1k";

/** One grey 28×28 image in [0, 1] as an 8-bit PNG (v·255 rounded: MNIST's own bytes exactly). */
const png = (image: ArrayLike<number>): Promise<Buffer> => {
  const bytes = Uint8Array.from({ length: mnistSide * mnistSide }, (_, i) => Math.round(Math.min(1, Math.max(0, image[i]!)) * 255));
  return sharp(bytes, { raw: { width: mnistSide, height: mnistSide, channels: 1 } })
    .png()
    .toBuffer();
};

/**
 * Write an in-memory task's splits (`taskImages`) as PNG files into `dir`:
 * - "folder": `train/`, `val/`, `test/`, each with one sub-folder per class named by the
 *   zero-padded label (so sorting by name keeps label order) — `ImageFolder` with `folders`;
 * - "vtab1k": `images/<split>/<n>.png` and the VTAB-1k list files `train800.txt`, `val200.txt`,
 *   `train800val200.txt`, `test.txt` (those names whatever the split's sizes), in the task's own
 *   example order — `ImageList`.
 * Returns the number of images written.
 */
export const exportTaskImages = async (
  splits: { readonly [split in "train" | "val" | "test"]: RawSplit },
  classes: number,
  dir: string,
  layout: ImageLayout,
  progress?: Counter,
): Promise<number> => {
  const width = String(classes - 1).length;
  const className = (label: number) => String(label).padStart(width, "0");
  const total = splits.train.images.length + splits.val.images.length + splits.test.images.length;
  let done = 0;
  const write = async (split: string, data: RawSplit): Promise<string[]> => {
    const lines: string[] = [];
    for (const [n, image] of data.images.entries()) {
      const label = data.labels[n]!;
      const name = `${String(n).padStart(5, "0")}.png`;
      const rel = layout === "folder" ? join(split, className(label), name) : join("images", split, name);
      mkdirSync(join(dir, rel, ".."), { recursive: true });
      writeFileSync(join(dir, rel), await png(image));
      lines.push(`${rel} ${label}\n`);
      progress?.(++done, total);
    }
    if (layout === "folder") for (let label = 0; label < classes; label++) mkdirSync(join(dir, split, className(label)), { recursive: true });
    return lines;
  };
  const [train, val, test] = [await write("train", splits.train), await write("val", splits.val), await write("test", splits.test)];
  if (layout === "vtab1k") {
    for (const [file, lines] of [
      ["train800.txt", train],
      ["val200.txt", val],
      ["train800val200.txt", [...train, ...val]],
      ["test.txt", test],
    ] as const)
      writeFileSync(join(dir, file), lines.join(""));
  }
  return total;
};

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFolderTask, imageListTask } from "../support/imageTasks.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { loadImageFolder } from "../../src/data/imageFolder.js";
import { listClasses, loadImageList } from "../../src/data/imageList.js";
import type { ImageFolder, ImageList } from "../../src/dsl/experiment.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { peftIn } from "../support/peftCli.js";

/*
 * Labels and splits that would train a head with classes nothing teaches, widen the head from a
 * validation list, or evaluate on nothing: refused naming the list and line, or saying what is
 * missing; never an accuracy of NaN.
 */
const work = mkdtempSync(join(tmpdir(), "peft-labels-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(work, "digits");
const grey28: VitConfig = { image: 28, channels: 1, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 2, layerNormEps: 1e-6, gelu: "erf" };

/** Class k's images: a bright square at a place of its own. */
const png = (path: string, k: number, i: number) => {
  const px = Buffer.alloc(28 * 28, i);
  for (let y = 4; y < 12; y++) for (let x = 0; x < 8; x++) px[(y + 8 * (k % 2)) * 28 + x + 10 * k] = 250;
  return sharp(px, { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(path);
};

beforeAll(async () => {
  for (const k of [0, 1, 2]) {
    mkdirSync(join(root, `c${k}`), { recursive: true });
    for (let i = 0; i < 10; i++) await png(join(root, `c${k}`, `${i}.png`), k, i);
  }
});

const lines = (k: number, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `c${k}/${from + i}.png ${k}`);
const write = (name: string, ls: readonly string[]) => writeFileSync(join(root, name), ls.length === 0 ? "" : `${ls.join("\n")}\n`);
const listTask = (over: Parameters<typeof imageListTask>[1] = {}): ImageList =>
  imageListTask(root, { train: "train.txt", val: "val.txt", test: "test.txt", ...over });
const folderTask = (over: Parameters<typeof imageFolderTask>[1] = {}): ImageFolder =>
  imageFolderTask(root, { split: { _tag: "Vtab1k", train: 20, val: 5 }, ...over });
const good = () => {
  write("train.txt", [...lines(0, 0, 6), ...lines(1, 0, 6)]);
  write("val.txt", [...lines(0, 6, 8), ...lines(1, 6, 8)]);
  write("test.txt", [...lines(0, 8, 10), ...lines(1, 8, 10)]);
};
const trainList = join(root, "train.txt");

describe("labels and splits that make sense", () => {
  it("list classes are the training list's 0 … k−1, each with training images; a gap is named, however large the label", () => {
    good();
    expect(listClasses(listTask(), root)).toEqual(["0", "1"]);
    write("train.txt", [...lines(0, 0, 6), "c1/0.png 1", "c1/1.png 99"]);
    expect(() => listClasses(listTask(), root)).toThrow(`data: ${trainList} has no images of label 2–98 (its largest label is 99)`);
    write("train.txt", ["c0/0.png 0", "c1/0.png 3", "c1/1.png 99999999999", "c2/0.png 7"]);
    expect(() => listClasses(listTask(), root)).toThrow(`has no images of label 1–2, 4–6, 8–99999999998 (its largest label is 99999999999)`);
    write("train.txt", ["c0/0.png 0", "c1/0.png 1", "c1/1.png 123456789012345678901234567890"]);
    expect(() => listClasses(listTask(), root)).toThrow(`data: ${trainList}:3: label 123456789012345678901234567890 is too large to be a class`);
    write("train.txt", []);
    expect(() => listClasses(listTask(), root)).toThrow(`data: ${trainList} lists no images; a run needs training images`);
    write("train.txt", ["c0/0.png 0", "c0/1.png 0"]);
    expect(() => listClasses(listTask(), root)).toThrow(`data: ${trainList} names 1 class; expected at least two`);
  });

  it("a validation or test label the training list lacks is refused naming the list and line, not a wider head", async () => {
    good();
    const classes = listClasses(listTask(), root);
    write("val.txt", ["c0/6.png 0", "c2/6.png 2"]);
    await expect(loadImageList(listTask({ classes }), "/", grey28)).rejects.toThrow(
      `data: ${join(root, "val.txt")}:2: label 2 is not a class of the training list (0 … 1)`,
    );
    good();
    write("test.txt", ["c0/8.png 0", "c1/9.png 99999999999"]);
    await expect(loadImageList(listTask({ classes }), "/", grey28)).rejects.toThrow(`${join(root, "test.txt")}:2: label 99999999999 is not a class`);
    good();
    write("val.txt", []);
    await expect(loadImageList(listTask({ classes }), "/", grey28)).rejects.toThrow(
      `data: ${join(root, "val.txt")} lists no images; set data.val to null for a run without validation`,
    );
    good();
    write("test.txt", []);
    await expect(loadImageList(listTask({ classes }), "/", grey28)).rejects.toThrow(`data: ${join(root, "test.txt")} lists no images`);
    // Classes named in the experiment: one without training images is named.
    good();
    await expect(loadImageList(listTask({ classes: ["zero", "one", "two"] }), "/", grey28)).rejects.toThrow(
      `data: ${trainList} gives no training images of class "two" (label 2); every class of the model's head needs some`,
    );
  });

  it("an image folder's split that leaves no test images, or a class without training images, is refused", async () => {
    await expect(loadImageFolder(folderTask({ split: { _tag: "Vtab1k", train: 24, val: 6 } }), "/", grey28)).rejects.toThrow(
      `data.split takes all 30 usable images of ${root} for training (24) and validation (6), leaving none to test; ask for fewer`,
    );
    // Two training images of three classes: one class is left out of training.
    await expect(loadImageFolder(folderTask({ split: { _tag: "Vtab1k", train: 2, val: 5 } }), "/", grey28)).rejects.toThrow(
      `data: the split of ${root} (seed 0) gives no training images of class "c2" (label 2); every class of the model's head needs some`,
    );
    const ok = await loadImageFolder(folderTask(), "/", grey28);
    expect([ok.train.count, ok.val.count, ok.test.count]).toEqual([20, 5, 5]);
    // Every test image unreadable: skipped, and then there is nothing to test.
    mkdirSync(join(root, "split", "train"), { recursive: true });
    for (const [k, split] of [
      [0, "train"],
      [1, "train"],
      [0, "test"],
      [1, "test"],
    ] as const) {
      mkdirSync(join(root, "split", split, `c${k}`), { recursive: true });
      if (split === "train") await png(join(root, "split", split, `c${k}`, "0.png"), k, 0);
      else writeFileSync(join(root, "split", split, `c${k}`, "0.png"), "not a png");
    }
    await expect(
      loadImageFolder(folderTask({ root: join(root, "split"), folders: { train: "train", val: null, test: "test" }, onBadImage: "skip" }), "/", grey28),
    ).rejects.toThrow(`leaves no test images once its 2 unreadable images are left out`);
    rmSync(join(root, "split"), { recursive: true });
  });

  it("peft: a label of 99999999999 is exit 2 naming the list, and the final protocol says there is no val set instead of NaN", () => {
    const peft = peftIn(work);
    const experiment = (name: string, data: Record<string, unknown>) => {
      const path = join(work, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          name,
          data: { _tag: "ImageList", root: "digits", mean: [0.1307], std: [0.3081], ...data },
          method: { targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] },
          optimizer: { _tag: "AdamW", lr: 0.01 },
          schedule: { epochs: 2, batchSize: 4, warmupEpochs: 0 },
          metrics: { examples: 0 },
        }),
      );
      return path;
    };
    write("huge.txt", [...lines(0, 0, 6), "c1/0.png 99999999999"]);
    const huge = peft("count", experiment("huge", { train: "huge.txt" }));
    expect(huge.code).toBe(2);
    expect(huge.stderr).toContain(`${join(root, "huge.txt")} has no images of label 1–99999999998`);
    expect(huge.stderr).not.toMatch(/^\s+at /m);
    good();
    write("final.txt", [...lines(0, 0, 8), ...lines(1, 0, 8)]);
    const final = peft(
      "train",
      experiment("final", { protocol: "final", train: "final.txt", test: "test.txt" }),
      "--out",
      join(work, "final"),
      "--backend",
      "cpu",
    );
    expect(final.code, final.stderr).toBe(0);
    expect(final.stderr).toMatch(/epoch 1\/2 {2}loss \d\.\d+ {2}no val set/);
    expect(final.stdout).toMatch(/test accuracy \d+\.\d\d%, no val set,/);
    expect(`${final.stdout}${final.stderr}`).not.toContain("NaN");
    expect(JSON.parse(readFileSync(join(work, "final", "result.json"), "utf8")).metrics.valAccuracy).toBeNull();
  });
});

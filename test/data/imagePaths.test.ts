import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageFolderTask, imageListTask } from "../support/imageTasks.js";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { loadImageFolder } from "../../src/data/imageFolder.js";
import { loadImageList } from "../../src/data/imageList.js";
import { resolveTask } from "../../src/data/imageTask.js";
import type { ImageFolder, ImageList } from "../../src/dsl/experiment.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import { peftIn } from "../support/peftCli.js";

/*
 * A dataset root beside an `outside/` folder whose image must never be read: every way a list
 * line or a folder entry can point there is refused naming the list and line (or the entry), and
 * links that lead nowhere are named (or skipped with onBadImage "skip").
 */
const work = mkdtempSync(join(tmpdir(), "peft-paths-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const root = join(work, "root");
const outsideImage = join(work, "outside", "x.png");
const grey28: VitConfig = { image: 28, channels: 1, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 2, layerNormEps: 1e-6, gelu: "erf" };

const png = (path: string, value: number) =>
  sharp(Buffer.alloc(28 * 28, value), { raw: { width: 28, height: 28, channels: 1 } })
    .png()
    .toFile(path);

beforeAll(async () => {
  for (const dir of ["a", "b", "../outside"]) mkdirSync(join(root, dir), { recursive: true });
  for (let i = 0; i < 4; i++) {
    await png(join(root, "a", `${i}.png`), 10 + i);
    await png(join(root, "b", `${i}.png`), 200 + i);
  }
  await png(outsideImage, 123);
});

const listTask = (over: Parameters<typeof imageListTask>[1] = {}): ImageList => imageListTask(root, { protocol: "final", ...over });
const folderTask = (over: Parameters<typeof imageFolderTask>[1] = {}): ImageFolder =>
  imageFolderTask(root, { split: { _tag: "Vtab1k", train: 4, val: 0 }, ...over });

/** A train list of the good images with `line` as its third line, and a test list. */
const writeLists = (line: string) => {
  writeFileSync(join(root, "train.txt"), ["a/0.png 0", "b/0.png 1", line, "a/1.png 0", "b/1.png 1"].join("\n"));
  writeFileSync(join(root, "test.txt"), "a/2.png 0\nb/2.png 1\n");
};
const loadList = (line: string, over: Partial<ImageList> = {}) => {
  writeLists(line);
  return loadImageList(listTask({ train: "train.txt", test: "test.txt", ...over }), "/", grey28);
};
const trainList = join(root, "train.txt");

describe("every path read from a dataset lies inside its root", () => {
  it("a list line with .., deeper .., or an absolute path is refused naming the list and line", async () => {
    await expect(loadList("../outside/x.png 0")).rejects.toThrow(`data: ${trainList}:3: ../outside/x.png leads outside ${root}`);
    await expect(loadList("a/../../outside/x.png 0")).rejects.toThrow(`${trainList}:3: a/../../outside/x.png leads outside`);
    await expect(loadList("a/../../../../../../../../etc/hostname 1")).rejects.toThrow(`${trainList}:3: a/../../../../../../../../etc/hostname leads outside`);
    await expect(loadList(`${outsideImage} 0`)).rejects.toThrow(`${trainList}:3: ${outsideImage} is an absolute path; list paths are relative to ${root}`);
    await expect(loadList("a/2.png 0", { test: "../outside/list.txt" })).rejects.toThrow(
      `list file ${join(work, "outside", "list.txt")} leads outside ${root}`,
    );
    // `..` that stays inside is an ordinary path.
    const inside = await loadList("b/../a/3.png 0");
    expect(inside.train.count).toBe(5);
  });

  it("a symbolic link out of the root, to a file or as a class folder, is refused; one that stays inside is read", async () => {
    symlinkSync(outsideImage, join(root, "a", "escape.png"));
    await expect(loadList("a/escape.png 0")).rejects.toThrow(`${trainList}:3: a/escape.png leads outside ${root} (to ${outsideImage})`);
    await expect(loadImageFolder(folderTask(), "/", grey28)).rejects.toThrow(
      `data.root: ${join(root, "a", "escape.png")} leads outside ${root} (to ${outsideImage})`,
    );
    rmSync(join(root, "a", "escape.png"));
    symlinkSync(join(work, "outside"), join(root, "c"));
    expect(() => resolveTask(folderTask(), "/")).toThrow(`data.root: ${join(root, "c")} leads outside ${root} (to ${join(work, "outside")})`);
    await expect(loadImageFolder(folderTask({ folders: { train: "../outside", val: null, test: "b" } }), "/", grey28)).rejects.toThrow(
      `data.folders.train: ${join(work, "outside")} leads outside ${root}`,
    );
    rmSync(join(root, "c"));
    // A link inside the root to another image of it, and a root reached through a link, are fine.
    symlinkSync(join(root, "b", "3.png"), join(root, "b", "alias.png"));
    symlinkSync(root, join(work, "root-link"));
    const t = await loadImageFolder(folderTask({ root: join(work, "root-link") }), "/", grey28);
    expect(t.train.count + t.test.count).toBe(9);
    rmSync(join(root, "b", "alias.png"));
  });

  it("dangling and looping links, a listed file that is missing, a NUL in a path: named, or skipped with onBadImage skip", async () => {
    symlinkSync(join(root, "a", "gone.png"), join(root, "a", "dangling.png"));
    symlinkSync(join(root, "a", "loop.png"), join(root, "a", "loop.png"));
    await expect(loadImageFolder(folderTask(), "/", grey28)).rejects.toThrow(`data.root: ${join(root, "a", "dangling.png")}: a symbolic link to nothing`);
    await expect(loadList("a/loop.png 0")).rejects.toThrow(`${trainList}:3: a/loop.png: a loop of symbolic links; fix or remove the line`);
    await expect(loadList("a/dangling.png 0")).rejects.toThrow(`${trainList}:3: a/dangling.png: a symbolic link to nothing`);
    await expect(loadList("a/missing.png 0")).rejects.toThrow(`${trainList}:3: a/missing.png: no such file`);
    await expect(loadList("a/\0.png 0")).rejects.toThrow(`${trainList}:3: the path holds a NUL character`);
    await expect(loadList("a/\0.png 0", { onBadImage: "skip" })).rejects.toThrow(`${trainList}:3: the path holds a NUL character`);
    const skipped = await loadImageFolder(folderTask({ onBadImage: "skip" }), "/", grey28);
    expect([...skipped.skipped].sort()).toEqual([join(root, "a", "dangling.png"), join(root, "a", "loop.png")]);
    expect(skipped.train.count + skipped.test.count).toBe(8);
    const listed = await loadList("a/missing.png 0", { onBadImage: "skip" });
    expect([listed.skipped, listed.train.count]).toEqual([[join(root, "a", "missing.png")], 4]);
    rmSync(join(root, "a", "dangling.png"));
    rmSync(join(root, "a", "loop.png"));
    // A class entry that leads nowhere cannot be told from a class: named.
    symlinkSync(join(root, "nowhere"), join(root, "d"));
    expect(() => resolveTask(folderTask(), "/")).toThrow(`data.root: ${join(root, "d")}: a symbolic link to nothing`);
    rmSync(join(root, "d"));
  });

  it("peft train: exit 2 naming the list and line, no stack trace, nothing written", () => {
    writeLists("../outside/x.png 1");
    const experiment = join(work, "escape.json");
    writeFileSync(
      experiment,
      JSON.stringify({
        name: "escape",
        data: { _tag: "ImageList", root: "root", protocol: "final", train: "train.txt", test: "test.txt" },
        method: { targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] },
        optimizer: { _tag: "AdamW", lr: 0.01 },
        schedule: { epochs: 1, batchSize: 4, warmupEpochs: 0 },
        metrics: { examples: 0 },
      }),
    );
    const r = peftIn(work)("train", experiment, "--out", join(work, "run"), "--backend", "cpu");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${trainList}:3: ../outside/x.png leads outside ${root}`);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(join(work, "run"))).toBe(false);
  });
});

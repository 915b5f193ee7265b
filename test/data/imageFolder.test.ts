import { afterAll, describe, expect, it } from "vitest";
import { imageFolderTask } from "../support/imageTasks.js";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn } from "../support/peftCli.js";
import sharp from "sharp";
import { loadImageFolder, readClasses } from "../../src/data/imageFolder.js";
import { loadImageList } from "../../src/data/imageList.js";
import { resolveTask } from "../../src/data/imageTask.js";
import type { ImageFolder, ImageList } from "../../src/dsl/experiment.js";
import type { VitConfig } from "../../src/models/vitConfig.js";
import type { TaskData } from "../../src/data/task.js";

/* Real files: PNG and JPEG of mixed sizes, grey, RGB and RGBA, made with sharp; trained on with the CLI. */
const work = mkdtempSync(join(tmpdir(), "peft-folder-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);

/** A w×h image with `channels` channels: a bright disc (class "disc") or a bright bar (class "bar") on a dark ground. */
const picture = (kind: "disc" | "bar", w: number, h: number, channels: 1 | 3 | 4, seed: number): Buffer => {
  const px = Buffer.alloc(w * h * channels);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const [u, v] = [x / w - 0.5, y / h - 0.5];
      const on = kind === "disc" ? u * u + v * v < 0.08 : Math.abs(u) < 0.08;
      for (let c = 0; c < channels; c++) px[(y * w + x) * channels + c] = c === 3 ? 255 : on ? 200 + ((seed * 7 + c * 13) % 50) : (seed * 3 + x + y) % 40;
    }
  return px;
};

const makeFolder = async (dir: string, perClass: number) => {
  for (const kind of ["disc", "bar"] as const) {
    mkdirSync(join(dir, kind), { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const [w, h, channels] = [
        [28, 28, 1],
        [40, 32, 3],
        [64, 64, 4],
        [33, 47, 3],
      ][i % 4]! as [number, number, 1 | 3 | 4];
      const img = sharp(picture(kind, w, h, channels, i), { raw: { width: w, height: h, channels } });
      await (i % 3 === 0 ? img.jpeg({ quality: 95 }) : img.png()).toFile(join(dir, kind, `${i}.${i % 3 === 0 ? "jpg" : "png"}`));
    }
  }
};

const folderTask = (over: Parameters<typeof imageFolderTask>[1] = {}): ImageFolder =>
  imageFolderTask(".", { split: { _tag: "Vtab1k", train: 30, val: 10 }, ...over });
/** Every image of the three sets, one array each. */
const everyImage = (t: TaskData): Float32Array[] => [t.train, t.val, t.test].flatMap((ds) => Array.from({ length: ds.count }, (_, k) => ds.read([k])));

const grey28: VitConfig = { image: 28, channels: 1, patch: 4, width: 8, depth: 1, heads: 2, mlpRatio: 2, classes: 2, layerNormEps: 1e-6, gelu: "erf" };

describe("image folders", () => {
  const data = join(work, "shapes");

  it("decodes grey, RGB and RGBA PNG and JPEG of any size to the model's size and channels, normalised", async () => {
    await makeFolder(data, 30);
    expect(readClasses(data)).toEqual(["bar", "disc"]);
    const t = await loadImageFolder(folderTask({ mean: [0.5], std: [0.25] }), data, grey28);
    expect([t.train.count, t.val.count, t.test.count, t.classes]).toEqual([30, 10, 20, 2]);
    expect(t.train.shape).toEqual([28, 28, 1]);
    // A 28×28 grey PNG at the model's size is its own pixels: (v/255 − 0.5)/0.25 (brute force from the file).
    const raw = picture("disc", 28, 28, 1, 4);
    const expected = Float32Array.from(raw, (v) => (v / 255 - 0.5) / 0.25);
    const found = everyImage(t).some((img) => img.every((v, j) => Math.abs(v - expected[j]!) < 1e-6));
    expect(found).toBe(true);
    const rgb = await loadImageFolder(folderTask({ resize: "crop" }), data, { ...grey28, image: 16, channels: 3 });
    expect(rgb.train.shape).toEqual([16, 16, 3]);
    expect(rgb.train.read([0, 1, 2]).every(Number.isFinite)).toBe(true);
  });

  it("trains with peft train; the classes and the decode time are in result.json; bad files exit 2 naming them", async () => {
    const experiment = (name: string, over: Record<string, unknown> = {}) => {
      const path = join(work, `${name}.json`);
      writeFileSync(
        path,
        JSON.stringify({
          name,
          data: { _tag: "ImageFolder", root: "shapes", split: { _tag: "Vtab1k", train: 30, val: 10 }, mean: [0.1307], std: [0.3081], ...over },
          method: {
            targets: [
              { select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 4, alpha: 8 } },
              { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
            ],
          },
          optimizer: { _tag: "AdamW", lr: 0.01 },
          schedule: { epochs: 3, batchSize: 10, warmupEpochs: 0 },
          metrics: { examples: 0 },
        }),
      );
      return path;
    };
    rmSync(join(data, ".peft-cache"), { recursive: true, force: true });
    const r = peft("train", experiment("shapes"), "--out", join(work, "run"), "--backend", "wasm");
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(work, "run/result.json"), "utf8"));
    expect(result.experiment.data.classes).toEqual(["bar", "disc"]);
    expect(result.images.skipped).toEqual([]);
    expect(result.images.decodeSeconds).toBeGreaterThan(0);
    expect(result.metrics.testAccuracy).toBeGreaterThan(0.7);
    expect(result.images.cache).toBe("written");
    // A second run reads the decoded images from the cache, to the same result.
    const again = peft("train", experiment("shapes"), "--out", join(work, "again"), "--backend", "wasm");
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(readFileSync(join(work, "again/result.json"), "utf8"));
    expect(second.images.cache).toBe("hit");
    expect(second.images.decodeSeconds).toBeLessThan(result.images.decodeSeconds);
    expect(second.metrics.testAccuracy).toBe(result.metrics.testAccuracy);
    writeFileSync(join(data, "disc", "broken.png"), "not a png");
    const bad = peft("train", experiment("broken"), "--out", join(work, "broken"), "--backend", "wasm");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(join(data, "disc", "broken.png"));
    expect(existsSync(join(work, "broken"))).toBe(false);
    // The interrupted decoding left no partial cache behind.
    expect(readdirSync(join(data, ".peft-cache")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    const skip = peft("train", experiment("skip", { onBadImage: "skip" }), "--out", join(work, "skip"), "--backend", "wasm");
    expect(skip.code, skip.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, "skip/result.json"), "utf8")).images.skipped).toEqual([join(data, "disc", "broken.png")]);
    mkdirSync(join(data, "empty"));
    const empty = peft("count", experiment("empty"));
    expect([empty.code, /class folder .*empty holds no/.test(empty.stderr)]).toEqual([2, true]);
  });

  it("VTAB-1k list files: the tune and final protocols, classes from the labels, bad lines and missing lists named", async () => {
    rmSync(join(data, "empty"), { recursive: true, force: true });
    const lines = (kind: string, label: number, from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `${kind}/${from + i}.${(from + i) % 3 === 0 ? "jpg" : "png"} ${label}`);
    const write = (name: string, ls: string[]) => writeFileSync(join(data, name), `${ls.join("\n")}\n`);
    write("train800.txt", [...lines("disc", 0, 0, 15), ...lines("bar", 1, 0, 15)]);
    write("val200.txt", [...lines("disc", 0, 15, 20), ...lines("bar", 1, 15, 20)]);
    write("train800val200.txt", [...lines("disc", 0, 0, 20), ...lines("bar", 1, 0, 20)]);
    write("test.txt", [...lines("disc", 0, 20, 30), ...lines("bar", 1, 20, 30)]);
    const list = (over: Partial<ImageList> = {}): ImageList => ({
      _tag: "ImageList",
      root: data,
      protocol: "tune",
      testLimit: null,
      resize: "squash",
      cropPct: 0.875,
      onBadImage: "skip",
      ...over,
    });
    const resolved = resolveTask(list(), "/") as ImageList;
    expect(resolved.classes).toEqual(["0", "1"]);
    const tune = await loadImageList(resolved, "/", grey28);
    expect([tune.train.count, tune.val.count, tune.test.count, tune.classes]).toEqual([30, 10, 20, 2]);
    expect(Array.from(tune.train.labels.subarray(0, 16))).toEqual([...new Array(15).fill(0), 1]);
    const final = await loadImageList(list({ protocol: "final" }), "/", grey28);
    expect([final.train.count, final.val.count, final.test.count]).toEqual([40, 0, 20]);
    // The same images as the folder's: the list's first training image is disc/0.jpg, decoded alike.
    const folder = await loadImageFolder(folderTask({ onBadImage: "skip" }), data, grey28);
    const first = tune.train.read([0]);
    expect(everyImage(folder).some((img) => img.every((v, j) => v === first[j]))).toBe(true);
    writeFileSync(join(data, "bad.txt"), "disc/0.jpg 0\ndisc/1.png cat\n");
    await expect(loadImageList(list({ train: "bad.txt" }), "/", grey28)).rejects.toThrow(/bad\.txt:2: expected "relative\/path label"/);
    await expect(loadImageList(list({ test: "missing.txt" }), "/", grey28)).rejects.toThrow(/list file .*missing\.txt: no such file/);
    await expect(loadImageList({ ...resolved, classes: ["0"] }, "/", grey28)).rejects.toThrow(
      /train800\.txt:16: label 1 is out of range \(data\.classes names 1\)/,
    );
  });

  it("explicit train / val / test folders: classes from train, each split its own images, a class train lacks named", async () => {
    const dir = join(work, "splits");
    await makeFolder(join(dir, "train"), 8);
    await makeFolder(join(dir, "val"), 3);
    await makeFolder(join(dir, "test"), 5);
    const task = folderTask({ folders: { train: "train", val: "val", test: "test" } });
    expect((resolveTask({ ...task, root: dir }, "/") as ImageFolder).classes).toEqual(["bar", "disc"]);
    const t = await loadImageFolder(task, dir, grey28);
    expect([t.train.count, t.val.count, t.test.count, t.classes]).toEqual([16, 6, 10, 2]);
    expect(Array.from(t.val.labels)).toEqual([0, 0, 0, 1, 1, 1]);
    const noVal = await loadImageFolder(folderTask({ folders: { train: "train", val: null, test: "test" }, testLimit: 4 }), dir, grey28);
    expect([noVal.val.count, noVal.test.count]).toEqual([0, 4]);
    mkdirSync(join(dir, "test", "cone"));
    await expect(loadImageFolder(task, dir, grey28)).rejects.toThrow(/test\/cone is a class the train folder does not have/);
  });
});

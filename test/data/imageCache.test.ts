import { afterAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { openSlots, readSlots, writeSlots } from "../../src/data/imageCache.js";
import { killWhen } from "../support/killWhen.js";
import { projectRoot } from "../support/peftCli.js";

const work = mkdtempSync(join(tmpdir(), "peft-cache-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const image = (k: number) => Uint8Array.from({ length: 12 }, (_, i) => (k * 31 + i * 7) % 256);

describe("the decoded-image cache", () => {
  it("slots written in any order read back by position; a missing index or a damaged one is no cache", () => {
    // The first folder cannot be made (a file is in its way): the writer falls back to the next.
    const blocked = join(work, "file");
    writeFileSync(blocked, "");
    const dirs = [join(blocked, "cache"), join(work, "fallback")];
    const writer = writeSlots(dirs, "k1", 5, 12);
    for (const k of [3, 0, 4, 1]) writer.put(k, image(k));
    const slots = writer.commit([2]);
    expect(slots.path).toBe(join(work, "fallback", "k1.u8"));
    const found = openSlots(dirs, "k1", 5, 12)!;
    expect([...found.bad]).toEqual([2]);
    expect(Array.from(readSlots(found, [4, 0, 3]))).toEqual([...image(4), ...image(0), ...image(3)]);
    expect(Array.from(readSlots(found, [2]))).toEqual(new Array(12).fill(0));
    expect(openSlots(dirs, "k1", 6, 12)).toBeNull();
    writeFileSync(join(work, "fallback", "k1.json"), "{");
    expect(openSlots(dirs, "k1", 5, 12)).toBeNull();
    rmSync(join(work, "fallback", "k1.json"));
    expect(openSlots(dirs, "k1", 5, 12)).toBeNull();
  });

  it("an abandoned cache leaves nothing behind", () => {
    const dir = join(work, "abandoned");
    const writer = writeSlots([dir], "k2", 3, 12);
    writer.put(1, image(1));
    writer.abandon();
    expect(readdirSync(dir)).toEqual([]);
    expect(openSlots([dir], "k2", 3, 12)).toBeNull();
  });

  it("a writer killed during the first write leaves a temporary file that the next writer removes", async () => {
    const dir = join(work, "killed");
    const module = pathToFileURL(join(projectRoot, "dist/src/data/imageCache.js")).href;
    const script = `const { writeSlots } = await import(${JSON.stringify(module)}); writeSlots([${JSON.stringify(dir)}], "k3", 3, 12).put(0, new Uint8Array(12)); setInterval(() => {}, 1000);`;
    const temporaries = () => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".tmp")) : []);
    await killWhen(["--input-type=module", "-e", script], work, () => temporaries().length === 1);
    const killed = temporaries();
    expect(killed).toHaveLength(1);
    // The next writer removes the dead one's file; a live writer's file (this process's) is left alone.
    const live = writeSlots([dir], "k4", 1, 12);
    expect(temporaries()).toHaveLength(1);
    expect(temporaries()).not.toEqual(killed);
    const writer = writeSlots([dir], "k3", 3, 12);
    expect(temporaries()).toHaveLength(2);
    for (const k of [0, 1, 2]) writer.put(k, image(k));
    writer.commit([]);
    live.commit([]);
    expect(readdirSync(dir).sort()).toEqual(["k3.json", "k3.u8", "k4.json", "k4.u8"]);
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constants, deflateRawSync } from "node:zlib";
import { unzipSync } from "fflate";
import { readBackboneFile } from "../../src/train/loadBackbone.js";
import { fixturePath } from "../support/fixtures.js";

/*
 * Zip bombs in Google's .npz layout: a real checkpoint (the timm fixture) with one array replaced
 * by an entry that declares hundreds of MB of zeros in about a megabyte. The reader must refuse it
 * from the headers; what it allocated is measured as the growth of the process's peak RSS.
 */
const work = mkdtempSync(join(tmpdir(), "npz-bomb-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
// timm's hub config.json beside the archives says the architecture.
copyFileSync(join(fixturePath("timm/plain"), "config.json"), join(work, "config.json"));

const replaced = "Transformer/encoderblock_0/MlpBlock_3/Dense_0/kernel";
const arrays = unzipSync(readFileSync(join(fixturePath("timm/plain"), "google.npz")));

/** A .npy v1 header for `shape` of `dtype`, padded as numpy pads it. */
const npyHeader = (shape: readonly number[], dtype: string): Uint8Array => {
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
  const text = dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 11) + "\n";
  return Uint8Array.from([0x93, ..."NUMPY".split("").map((c) => c.charCodeAt(0)), 1, 0, text.length & 255, text.length >> 8, ...Buffer.from(text)]);
};

/** 16 MiB of zeros as raw deflate blocks that end on a byte boundary without a final block, to be repeated. */
const unit = 16 << 20;
const zeros = deflateRawSync(Buffer.alloc(unit), { level: 9, finishFlush: constants.Z_SYNC_FLUSH });

/** `header` then `units` × 16 MiB of zeros as one deflate stream: a stored block, the repeated zeros, a final empty block. */
const bombStream = (header: Uint8Array, units: number): Buffer =>
  Buffer.concat([
    Buffer.from([0, header.length & 255, header.length >> 8, ~header.length & 255, (~header.length >> 8) & 255]),
    header,
    ...Array.from({ length: units }, () => zeros),
    Buffer.from([3, 0]),
  ]);

/** A zip of the fixture's arrays (stored) with `replaced` as a deflated entry declaring `size` bytes. */
const npzWith = (stream: Buffer, size: number): string => {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  const entries = Object.entries(arrays).map(([name, data]) =>
    name === `${replaced}.npy` ? { name, data: stream, size, method: 8 } : { name, data: Buffer.from(data), size: data.length, method: 0 },
  );
  for (const e of entries) {
    const name = Buffer.from(e.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.data.length, 18);
    local.writeUInt32LE(e.size, 22);
    local.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(e.method, 10);
    entry.writeUInt32LE(e.data.length, 20);
    entry.writeUInt32LE(e.size, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    central.push(entry, name);
    parts.push(local, name, e.data);
    offset += 30 + name.length + e.data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  const path = join(work, `bomb-${size}.npz`);
  writeFileSync(path, Buffer.concat([...parts, directory, end]));
  return path;
};

/** The error reading `path` gives, and how far it raised the process's peak RSS (bytes). */
const refusal = (path: string): { message: string; grew: number } => {
  const before = process.resourceUsage().maxRSS;
  let message = "";
  try {
    readBackboneFile(path);
  } catch (e) {
    message = (e as Error).message;
  }
  return { message, grew: (process.resourceUsage().maxRSS - before) * 1024 };
};

describe("an .npz zip bomb is refused from its headers, before it is inflated", () => {
  it("an array declaring 1 GiB of zeros (a 1 MB entry) is over the ceiling of any ViT array", () => {
    const header = npyHeader([2 ** 28], "<f4");
    const stream = bombStream(header, 64);
    expect(stream.length).toBeLessThan(1.2e6);
    const r = refusal(npzWith(stream, header.length + 2 ** 30));
    expect(r.message).toContain(`${replaced}: shape [268435456] holds 268435456 values, more than any ViT array (at most 67108864)`);
    expect(r.grew).toBeLessThan(64 << 20);
  });

  it("an entry whose zip size (1 GiB) is not what its .npy header says is refused", () => {
    const header = npyHeader([4], "<f4");
    const r = refusal(npzWith(bombStream(header, 64), header.length + 2 ** 30));
    expect(r.message).toContain(`${replaced}: the zip declares ${header.length + 2 ** 30} bytes, its .npy header ([4] <f4) ${header.length + 16}`);
    expect(r.grew).toBeLessThan(64 << 20);
  });

  it("an array under the ceiling (512 MiB) but of a shape the model does not have is refused, naming the shape expected", () => {
    const header = npyHeader([8192, 8192], "<f8");
    const r = refusal(npzWith(bombStream(header, 32), header.length + 2 ** 29));
    expect(r.message).toMatch(new RegExp(`array ${replaced} has shape \\[8192,8192\\], expected \\[\\d+,\\d+\\] \\(width`));
    expect(r.grew).toBeLessThan(64 << 20);
  });

  it("the same archive with the real array loads: the writer and the headers agree", () => {
    const data = Buffer.from(arrays[`${replaced}.npy`]!);
    expect(readBackboneFile(npzWith(deflateRawSync(data), data.length)).weights.get("blocks.0.mlp.fc1.weight")!.shape).toEqual([128, 32]);
  });
});

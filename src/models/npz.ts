import { Inflate, inflateSync } from "fflate";
import { f16ToF32, SafetensorsError } from "./safetensors.js";
import type { HostTensor } from "./backbone.js";
import { transpose } from "./hostTranspose.js";

/** npy dtypes a checkpoint's floats come in (little-endian), read as float32. */
const readers: Readonly<Record<string, (view: DataView, i: number) => number>> = {
  "<f4": (v, i) => v.getFloat32(4 * i, true),
  "<f8": (v, i) => v.getFloat64(8 * i, true),
  "<f2": (v, i) => f16ToF32(v.getUint16(2 * i, true)),
};
const itemSizes: Readonly<Record<string, number>> = { "<f4": 4, "<f8": 8, "<f2": 2 };

/**
 * Stated ceilings, checked on the zip and .npy headers before anything is inflated: the largest
 * array of any ViT timm defines is 28M values (ViT-H/14's head for ImageNet-21k's 21,843 classes),
 * the largest ViT 659M values (ViT-H/14); an archive that claims more is refused.
 */
const maxArrayValues = 2 ** 26;
const maxTotalValues = 2 ** 30;
const maxHeaderBytes = 65536;

/** What a .npy header says: dtype, shape, order, and where the data starts. */
interface NpyHeader {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly fortran: boolean;
  readonly dataStart: number;
}

const values = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The header of a .npy array (format versions 1–3) from its first bytes; `name` prefixes errors. */
const readNpyHeader = (bytes: Uint8Array, name: string): NpyHeader => {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${name}: ${why}`);
  };
  if (bytes.byteLength < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") fail("not a .npy array");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const start = major === 1 ? 10 : 12;
  const headerLength = major === 1 ? view.getUint16(8, true) : bytes.byteLength >= 12 ? view.getUint32(8, true) : Infinity;
  if (headerLength > maxHeaderBytes) fail(`.npy header of ${headerLength} bytes (at most ${maxHeaderBytes})`);
  if (start + headerLength > bytes.byteLength) fail("truncated .npy header");
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (itemSizes[descr!] === undefined) fail(`dtype ${descr} is not supported (expected float32, float64 or float16: ${Object.keys(readers).join(", ")})`);
  const shape = shapeText!
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) fail(`unreadable .npy shape (${shapeText})`);
  if (values(shape) > maxArrayValues) fail(`shape ${JSON.stringify(shape)} holds ${values(shape)} values, more than any ViT array (at most ${maxArrayValues})`);
  return { dtype: descr!, shape, fortran: fortran === "True", dataStart: start + headerLength };
};

/** One .npy array (format versions 1–3): magic, header dict, C-order data. */
export const readNpy = (bytes: Uint8Array, name: string): HostTensor => {
  const { dtype, shape, fortran, dataStart } = readNpyHeader(bytes, name);
  const count = values(shape);
  const data = bytes.subarray(dataStart);
  if (data.byteLength !== count * itemSizes[dtype]!)
    throw new SafetensorsError(`${name}: ${JSON.stringify(shape)} ${dtype} needs ${count * itemSizes[dtype]!} bytes, the array has ${data.byteLength}`);
  const read = readers[dtype]!;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(dv, i);
  if (!fortran) return { shape, data: out };
  // Column-major data is the row-major array of the reversed shape, transposed back.
  return transpose(
    { shape: [...shape].reverse(), data: out },
    shape.map((_, i) => shape.length - 1 - i),
  );
};

/** A zip entry as its central directory states it: name, method, sizes, and where its data lies. */
interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressed: Uint8Array;
  readonly size: number;
}

/** The archive's entries from its central directory (zip64 too), every offset checked against the file. */
const zipEntries = (bytes: Uint8Array, source: string): ZipEntry[] => {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${source}: not a readable .npz (zip) archive (${why})`);
  };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const at = (i: number, width: 2 | 4 | 8): number => {
    if (i < 0 || i + width > bytes.byteLength) fail("an offset points outside the file");
    return width === 2 ? view.getUint16(i, true) : width === 4 ? view.getUint32(i, true) : Number(view.getBigUint64(i, true));
  };
  // The end record sits in the last 22 bytes, before a comment of at most 65535.
  const lowest = Math.max(0, bytes.byteLength - 22 - 65535);
  let end = bytes.byteLength - 22;
  while (end >= lowest && at(end, 4) !== 0x06054b50) end--;
  if (end < lowest) fail("no end of central directory");
  let count = at(end + 10, 2);
  let offset = at(end + 16, 4);
  if (end >= 20 && at(end - 20, 4) === 0x07064b50) {
    const z = at(end - 12, 8);
    if (at(z, 4) !== 0x06064b50) fail("a broken zip64 end of central directory");
    count = at(z + 32, 8);
    offset = at(z + 48, 8);
  }
  const entries: ZipEntry[] = [];
  for (let e = 0; e < count; e++) {
    if (at(offset, 4) !== 0x02014b50) fail("a broken central directory entry");
    const nameLength = at(offset + 28, 2);
    const extraLength = at(offset + 30, 2);
    let [compressedSize, size, local] = [at(offset + 20, 4), at(offset + 24, 4), at(offset + 42, 4)];
    // Sizes and offset that do not fit 32 bits are in the zip64 extra field, in this order.
    for (let x = offset + 46 + nameLength; x + 4 <= offset + 46 + nameLength + extraLength; x += 4 + at(x + 2, 2)) {
      if (at(x, 2) !== 1) continue;
      let field = x + 4;
      const wide = (v: number) => (v === 0xffffffff ? ((field += 8), at(field - 8, 8)) : v);
      [size, compressedSize, local] = [wide(size), wide(compressedSize), wide(local)];
    }
    if (at(local, 4) !== 0x04034b50) fail("a broken local file header");
    const start = local + 30 + at(local + 26, 2) + at(local + 28, 2);
    if (start + compressedSize > bytes.byteLength) fail("an entry runs past the end of the file");
    entries.push({
      name: new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength)),
      method: at(offset + 10, 2),
      compressed: bytes.subarray(start, start + compressedSize),
      size,
    });
    offset += 46 + nameLength + extraLength + at(offset + 32, 2);
  }
  return entries;
};

/** The first `n` bytes an entry holds (fewer if it is shorter), inflating 1 KiB of it at a time and stopping there. */
const firstBytes = (entry: ZipEntry, n: number): Uint8Array => {
  if (entry.method === 0) return entry.compressed.subarray(0, n);
  const chunks: Uint8Array[] = [];
  let have = 0;
  const inflate = new Inflate((chunk) => {
    chunks.push(chunk);
    have += chunk.length;
  });
  for (let at = 0; at < entry.compressed.length && have < n; at += 1024)
    inflate.push(entry.compressed.subarray(at, at + 1024), at + 1024 >= entry.compressed.length);
  const out = new Uint8Array(Math.min(have, n));
  let filled = 0;
  for (const c of chunks) {
    out.set(c.subarray(0, out.length - filled), filled);
    filled += Math.min(c.length, out.length - filled);
  }
  return out;
};

/**
 * The arrays of an .npz file (a zip of .npy files, stored or deflated), by name without ".npy".
 * Before any array is inflated, every entry's .npy header is read from its first bytes and must
 * agree with the size the zip declares, stay under the ceilings above, and pass `check` (the
 * shapes the caller expects): a zip bomb is refused, not inflated.
 */
export const readNpz = (
  bytes: Uint8Array,
  source: string,
  check: (shapes: ReadonlyMap<string, readonly number[]>) => void = () => {},
): Map<string, HostTensor> => {
  const inflated = (name: string, f: () => Uint8Array): Uint8Array => {
    try {
      return f();
    } catch (e) {
      throw new SafetensorsError(`${source}: ${name}: not a readable deflate stream (${(e as Error).message})`);
    }
  };
  let total = 0;
  const entries = zipEntries(bytes, source).map((entry) => {
    if (!entry.name.endsWith(".npy")) throw new SafetensorsError(`${source}: ${entry.name} is not an .npy array`);
    if (entry.method !== 0 && entry.method !== 8)
      throw new SafetensorsError(`${source}: ${entry.name} uses zip compression method ${entry.method} (expected stored or deflated)`);
    const name = entry.name.slice(0, -4);
    const header = readNpyHeader(
      inflated(name, () => firstBytes(entry, 12 + maxHeaderBytes)),
      `${source}: ${name}`,
    );
    const needed = header.dataStart + values(header.shape) * itemSizes[header.dtype]!;
    if (entry.size !== needed)
      throw new SafetensorsError(
        `${source}: ${name}: the zip declares ${entry.size} bytes, its .npy header (${JSON.stringify(header.shape)} ${header.dtype}) ${needed}`,
      );
    total += values(header.shape);
    return { entry, name, shape: header.shape };
  });
  if (total > maxTotalValues) throw new SafetensorsError(`${source}: its arrays hold ${total} values, more than any ViT (at most ${maxTotalValues})`);
  check(new Map(entries.map((e) => [e.name, e.shape])));
  const arrays = new Map<string, HostTensor>();
  for (const { entry, name } of entries) {
    const content = entry.method === 0 ? entry.compressed : inflated(name, () => inflateSync(entry.compressed, { out: new Uint8Array(entry.size) }));
    arrays.set(name, readNpy(content, `${source}: ${name}`));
  }
  return arrays;
};

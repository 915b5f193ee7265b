import { unzipSync } from "fflate";
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

/** One .npy array (format versions 1–3): magic, header dict, C-order data. */
export const readNpy = (bytes: Uint8Array, name: string): HostTensor => {
  const fail = (why: string): never => {
    throw new SafetensorsError(`${name}: ${why}`);
  };
  if (bytes.byteLength < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== "NUMPY") fail("not a .npy array");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLength > bytes.byteLength) fail("truncated .npy header");
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(`unreadable .npy header ${JSON.stringify(header.trim())}`);
  const read = readers[descr!] ?? fail(`dtype ${descr} is not supported (expected float32, float64 or float16: ${Object.keys(readers).join(", ")})`);
  const shape = shapeText!
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = bytes.subarray(start + headerLength);
  if (data.byteLength !== count * itemSizes[descr!]!)
    fail(`${JSON.stringify(shape)} ${descr} needs ${count * itemSizes[descr!]!} bytes, the array has ${data.byteLength}`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(dv, i);
  if (fortran === "False") return { shape, data: out };
  // Column-major data is the row-major array of the reversed shape, transposed back.
  return transpose(
    { shape: [...shape].reverse(), data: out },
    shape.map((_, i) => shape.length - 1 - i),
  );
};

/** The arrays of an .npz file (a zip of .npy files, stored or deflated), by name without ".npy". */
export const readNpz = (bytes: Uint8Array, source: string): Map<string, HostTensor> => {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (e) {
    throw new SafetensorsError(`${source}: not a readable .npz (zip) archive (${(e as Error).message})`);
  }
  const arrays = new Map<string, HostTensor>();
  for (const [file, content] of Object.entries(files)) {
    if (!file.endsWith(".npy")) throw new SafetensorsError(`${source}: ${file} is not an .npy array`);
    const name = file.slice(0, -4);
    arrays.set(name, readNpy(content, `${source}: ${name}`));
  }
  return arrays;
};

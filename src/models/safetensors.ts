/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header, then the data.
 * The reader validates the header strictly — size limits, known dtypes, shapes consistent
 * with byte ranges, offsets in range, contiguous and non-overlapping — so a corrupt file is
 * an error message, never a crash or a huge allocation.
 */
import { closeSync, openSync, readSync } from "node:fs";

export const dtypes = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, U8: 1 } as const;
export type Dtype = keyof typeof dtypes;

export interface RawTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** The tensor's bytes (a view into the file buffer). */
  readonly bytes: Uint8Array;
}

export interface SafetensorsFile {
  readonly tensors: ReadonlyMap<string, RawTensor>;
  readonly metadata: Readonly<Record<string, string>>;
}

export class SafetensorsError extends Error {
  override readonly name = "SafetensorsError";
}

/** Headers larger than this are refused (the reference implementation's limit). */
export const maxHeaderBytes = 100_000_000;

const fail = (msg: string): never => {
  throw new SafetensorsError(msg);
};

const isCount = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

const checkedHeaderLength = (length: bigint, source: string): number => {
  if (length > BigInt(maxHeaderBytes)) fail(`${source}: header length ${length} exceeds the ${maxHeaderBytes}-byte limit`);
  return Number(length);
};

/** The header's JSON object. */
const headerJson = (bytes: Uint8Array, source: string): Record<string, unknown> => {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    fail(`${source}: header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== "object" || header === null || Array.isArray(header)) fail(`${source}: header must be a JSON object`);
  return header as Record<string, unknown>;
};

/** The header's `__metadata__`: an object of strings, or none. */
const metadataOf = (header: Record<string, unknown>, source: string): Record<string, string> => {
  const value = header.__metadata__;
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(`${source}: __metadata__ must be an object of strings`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") fail(`${source}: __metadata__.${k} must be a string`);
    metadata[k] = v as string;
  }
  return metadata;
};

/** The metadata of the safetensors file at `path`, from its header alone: the tensors are never read. */
export const readSafetensorsMetadata = (path: string): Readonly<Record<string, string>> => {
  const fd = openSync(path, "r");
  try {
    const length = Buffer.alloc(8);
    if (readSync(fd, length, 0, 8, 0) < 8) fail(`${path}: too short for a safetensors header`);
    const n = checkedHeaderLength(length.readBigUInt64LE(0), path);
    const header = Buffer.alloc(n);
    if (readSync(fd, header, 0, n, 8) < n) fail(`${path}: header length ${n} runs past the end of the file`);
    return metadataOf(headerJson(header, path), path);
  } finally {
    closeSync(fd);
  }
};

export const readSafetensors = (input: Uint8Array, source = "safetensors file"): SafetensorsFile => {
  // A plain Uint8Array view: Node's Buffer#slice would alias instead of copying.
  const buf = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (buf.byteLength < 8) fail(`${source}: ${buf.byteLength} bytes is too short for a safetensors header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLength = view.getBigUint64(0, true);
  const n = checkedHeaderLength(headerLength, source);
  if (8 + n > buf.byteLength) fail(`${source}: header length ${n} runs past the end of the ${buf.byteLength}-byte file`);
  const header = headerJson(buf.subarray(8, 8 + n), source);
  const data = buf.subarray(8 + n);
  const metadata = metadataOf(header, source);
  const entries: Array<{ name: string; dtype: Dtype; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const e = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== "object" || e === null) fail(`${source}: entry "${name}" must be an object`);
    const extra = Object.keys(e).filter((k) => k !== "dtype" && k !== "shape" && k !== "data_offsets");
    if (extra.length > 0) fail(`${source}: entry "${name}" has unknown field "${extra[0]}"`);
    if (typeof e.dtype !== "string" || !(e.dtype in dtypes))
      fail(`${source}: entry "${name}" has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ${Object.keys(dtypes).join(", ")})`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) fail(`${source}: entry "${name}" shape must be an array of non-negative integers`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !isCount(off[0]) || !isCount(off[1])) fail(`${source}: entry "${name}" data_offsets must be [begin, end]`);
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`${source}: entry "${name}" has data_offsets begin ${begin} > end ${end}`);
    if (end > data.byteLength) fail(`${source}: entry "${name}" ends at byte ${end}, past the ${data.byteLength}-byte data section`);
    const shape = e.shape as number[];
    const elements = shape.reduce((a, b) => a * b, 1);
    const itemSize = dtypes[e.dtype as Dtype];
    if (!Number.isSafeInteger(elements * itemSize) || elements * itemSize !== end - begin) {
      fail(`${source}: entry "${name}" is ${e.dtype} ${JSON.stringify(shape)} (${elements * itemSize} bytes) but its data_offsets span ${end - begin} bytes`);
    }
    entries.push({ name, dtype: e.dtype as Dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`${source}: entry "${e.name}" overlaps the previous tensor (begins at ${e.begin}, previous ends at ${cursor})`);
    if (e.begin > cursor) fail(`${source}: ${e.begin - cursor} unused bytes before entry "${e.name}"`);
    cursor = e.end;
  }
  if (cursor !== data.byteLength) fail(`${source}: ${data.byteLength - cursor} bytes after the last tensor are not described by the header`);
  const tensors = new Map<string, RawTensor>();
  for (const e of entries) tensors.set(e.name, { dtype: e.dtype, shape: e.shape, bytes: data.subarray(e.begin, e.end) });
  return { tensors, metadata };
};

export const f16ToF32 = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
};

/** A copy of the tensor as float32 (F32, F16, BF16 and F64 are widened or narrowed). */
export const toFloat32 = (t: RawTensor, name = "tensor"): Float32Array => {
  const copy = t.bytes.slice();
  const dv = new DataView(copy.buffer);
  const n = t.shape.reduce((a, b) => a * b, 1);
  switch (t.dtype) {
    case "F32":
      return new Float32Array(copy.buffer, 0, n);
    case "F64":
      return Float32Array.from({ length: n }, (_, i) => dv.getFloat64(8 * i, true));
    case "F16":
      return Float32Array.from({ length: n }, (_, i) => f16ToF32(dv.getUint16(2 * i, true)));
    case "BF16": {
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      throw new SafetensorsError(`${name}: expected a floating-point tensor, got ${t.dtype}`);
  }
};

/** A copy of an integer tensor as int32 (I64 values must fit). */
export const toInt32 = (t: RawTensor, name = "tensor"): Int32Array => {
  const copy = t.bytes.slice();
  const dv = new DataView(copy.buffer);
  const n = t.shape.reduce((a, b) => a * b, 1);
  switch (t.dtype) {
    case "I32":
      return new Int32Array(copy.buffer, 0, n);
    case "U8":
      return Int32Array.from(copy);
    case "I64":
      return Int32Array.from({ length: n }, (_, i) => {
        const v = dv.getBigInt64(8 * i, true);
        if (v > 2147483647n || v < -2147483648n) throw new SafetensorsError(`${name}: value ${v} does not fit in int32`);
        return Number(v);
      });
    default:
      throw new SafetensorsError(`${name}: expected an integer tensor, got ${t.dtype}`);
  }
};

export type TensorData = Float32Array | Int32Array;

/** Integer tensors as int32, floating ones as float32. */
export const toTensorData = (t: RawTensor, name = "tensor"): TensorData =>
  t.dtype === "I32" || t.dtype === "I64" || t.dtype === "U8" ? toInt32(t, name) : toFloat32(t, name);

export interface NamedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: TensorData;
  /** Store float data at half precision (rounded to nearest even); F32 by default. */
  readonly dtype?: "F16" | "BF16";
}

const f32Bits = (x: number): number => {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]!;
};

/** float32 → bfloat16 bits: the top 16 bits, rounded to nearest even; NaN stays NaN. */
const f32ToBf16 = (x: number): number => {
  const b = f32Bits(x);
  if (Number.isNaN(x)) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
};

/** float32 → IEEE half bits, rounded to nearest even, with subnormals, overflow to ±Inf, NaN. */
const f32ToF16 = (x: number): number => {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = m & ((1 << shift) - 1);
    let r = m >>> shift;
    if (rest > half || (rest === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (r & 1) === 1)) r++;
  return sign | r;
};

const encoded = (t: NamedTensor): Uint8Array => {
  if (t.dtype === undefined) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (!(t.data instanceof Float32Array)) throw new SafetensorsError(`${t.name}: ${t.dtype} needs float data`);
  const convert = t.dtype === "F16" ? f32ToF16 : f32ToBf16;
  const out = new Uint16Array(t.data.length);
  for (let i = 0; i < out.length; i++) out[i] = convert(t.data[i]!);
  return new Uint8Array(out.buffer);
};

/** Serialise tensors (F32 or I32 by array type, or F16/BF16 on request) in order, header padded to 8 bytes. */
export const writeSafetensors = (tensors: readonly NamedTensor[], metadata: Readonly<Record<string, string>> = {}): Uint8Array => {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  const bodies: Uint8Array[] = [];
  for (const t of tensors) {
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (expected !== t.data.length) throw new SafetensorsError(`${t.name}: shape ${JSON.stringify(t.shape)} needs ${expected} values, got ${t.data.length}`);
    if (t.name === "__metadata__" || Object.hasOwn(header, t.name)) throw new SafetensorsError(`${t.name}: duplicate or reserved tensor name`);
    const body = encoded(t);
    header[t.name] = { dtype: t.dtype ?? (t.data instanceof Float32Array ? "F32" : "I32"), shape: t.shape, data_offsets: [offset, offset + body.byteLength] };
    bodies.push(body);
    offset += body.byteLength;
  }
  let json = JSON.stringify(header);
  const raw = new TextEncoder().encode(json);
  json += " ".repeat((8 - (raw.byteLength % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const body of bodies) {
    out.set(body, at);
    at += body.byteLength;
  }
  return out;
};

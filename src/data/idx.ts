/** The IDX format of MNIST: big-endian magic (0x0000 08 rank), then rank u32 dims, then u8 data. */
export interface IdxArray {
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

export class IdxError extends Error {
  override readonly name = "IdxError";
}

export const readIdx = (input: Uint8Array, source: string): IdxArray => {
  const buf = new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  if (buf.byteLength < 4) throw new IdxError(`${source}: too short for an IDX header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint16(0) !== 0 || buf[2] !== 0x08) throw new IdxError(`${source}: not an unsigned-byte IDX file (magic ${view.getUint32(0).toString(16)})`);
  const rank = buf[3]!;
  const headerBytes = 4 + 4 * rank;
  if (rank === 0 || buf.byteLength < headerBytes) throw new IdxError(`${source}: truncated IDX header`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = shape.reduce((a, b) => a * b, 1);
  if (buf.byteLength !== headerBytes + size) throw new IdxError(`${source}: header promises ${size} values, file holds ${buf.byteLength - headerBytes}`);
  return { shape, data: buf.subarray(headerBytes) };
};

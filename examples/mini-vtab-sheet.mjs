// The first 10 training images of every mini-VTAB task (seed 0), one row per task, as a PNG:
// `npm run build && node examples/mini-vtab-sheet.mjs docs/mini-vtab.png`. Prints each task's
// build time and training label counts.
import { writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { miniVtabSplits } from "../dist/src/data/miniVtab/build.js";
import { miniVtabNames } from "../dist/src/dsl/miniVtab.js";
const per = 10,
  cell = 30,
  scale = 2;
const names = miniVtabNames;
const W = per * cell * scale,
  H = names.length * cell * scale;
const px = new Uint8Array(W * H).fill(40);
const t0 = performance.now();
const stats = [];
names.forEach((n, row) => {
  const s0 = performance.now();
  const { train, val, test } = miniVtabSplits(n, { _tag: "Vtab1k", train: 800, val: 200 }, 0, 2000);
  const counts = {};
  for (const l of train.labels) counts[l] = (counts[l] ?? 0) + 1;
  stats.push(`${n}: ${(performance.now() - s0).toFixed(0)} ms, train labels ${JSON.stringify(counts)}, first labels ${train.labels.slice(0, per).join(",")}`);
  for (let k = 0; k < per; k++) {
    const img = train.images[k];
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 28; x++)
        for (let dy = 0; dy < scale; dy++)
          for (let dx = 0; dx < scale; dx++) {
            px[((row * cell + 1 + y) * scale + dy) * W + (k * cell + 1 + x) * scale + dx] = Math.round(255 * img[y * 28 + x]);
          }
  }
});
console.log(stats.join("\n"), `\ntotal ${(performance.now() - t0).toFixed(0)} ms`);
const raw = Buffer.alloc((W + 1) * H);
for (let y = 0; y < H; y++) {
  raw[y * (W + 1)] = 0;
  Buffer.from(px.subarray(y * W, (y + 1) * W)).copy(raw, y * (W + 1) + 1);
}
const crc = (b) => {
  let c,
    t = [];
  for (let n = 0; n < 256; n++) {
    c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  let x = 0xffffffff;
  for (const v of b) x = t[(x ^ v) & 255] ^ (x >>> 8);
  return (x ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const l = Buffer.alloc(4);
  l.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(crc(td));
  return Buffer.concat([l, td, c]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(W, 0);
ihdr.writeUInt32BE(H, 4);
ihdr[8] = 8;
ihdr[9] = 0;
writeFileSync(
  process.argv[2] ?? "mini-vtab.png",
  Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]),
);

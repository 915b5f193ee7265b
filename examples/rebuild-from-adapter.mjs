#!/usr/bin/env node
/*
 * Rebuild the adapted weights from adapter.safetensors using only the README's file layout, with
 * no code from this library: what someone applying an adapter in another framework writes.
 * Compares ΔW = rebuilt − base with merged − base (and kept modules with merged's) and prints the
 * worst relative Frobenius error. Exit 1 above --tolerance (default 1e-5).
 *
 *   node examples/rebuild-from-adapter.mjs BASE.safetensors ADAPTER.safetensors MERGED.safetensors
 */
import { readFileSync } from "node:fs";

const read = (path) => {
  const bytes = readFileSync(path);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  const body = bytes.subarray(8 + headerLength);
  const tensors = new Map();
  for (const [name, t] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [from, to] = t.data_offsets;
    const raw = body.buffer.slice(body.byteOffset + from, body.byteOffset + to);
    const typed = t.dtype === "I32" ? new Int32Array(raw) : new Float32Array(raw);
    tensors.set(name, { shape: t.shape, data: Float64Array.from(typed) });
  }
  return { tensors, metadata: header.__metadata__ ?? {} };
};

const [basePath, adapterPath, mergedPath, ...rest] = process.argv.slice(2);
if (!mergedPath) {
  console.error("usage: rebuild-from-adapter.mjs BASE ADAPTER MERGED [--tolerance 1e-5]");
  process.exit(2);
}
const tolerance = rest[0] === "--tolerance" ? Number(rest[1]) : 1e-5;
const base = read(basePath);
const adapter = read(adapterPath);
const merged = read(mergedPath);
const layout = JSON.parse(adapter.metadata.layout);
const config = JSON.parse(adapter.metadata.config);

// The adapted parameters start as the base; a reset head starts at zeros of the task's shape.
const weights = new Map([...base.tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data.slice() }]));
if (adapter.metadata.head === "reset") {
  weights.set("head.weight", { shape: [config.classes, config.width], data: new Float64Array(config.classes * config.width) });
  weights.set("head.bias", { shape: [config.classes], data: new Float64Array(config.classes) });
}
const pretrained = new Map([...weights].map(([k, t]) => [k, t.data.slice()]));

// Group tensors by the leaf that owns them: the name minus its last component(s).
const suffix = {
  lora_A: "lora_A",
  lora_B: "lora_B",
  value: "value",
  spectrum: "spectrum",
  positions: "positions",
  scale_left: "scale_left",
  scale_right: "scale_right",
  ssf_scale: "ssf_scale",
  ssf_shift: "ssf_shift",
  perm_rows: "perm_rows",
  perm_cols: "perm_cols",
  down_weight: "down_proj.weight",
  down_bias: "down_proj.bias",
  up_weight: "up_proj.weight",
  up_bias: "up_proj.bias",
};
const leaves = new Map();
for (const [name, t] of adapter.tensors) {
  const entry = layout[name];
  const key = name.slice(0, name.length - suffix[entry.role].length);
  if (!leaves.has(key)) leaves.set(key, { key, entry, tensors: {} });
  leaves.get(key).tensors[entry.role] = t.data;
  if (entry.scale !== undefined) leaves.get(key).scale = entry.scale;
}

// 1 bit: mean + std·0.6745·sign(w − mean), sample std, z ≥ 0 positive.
const binarize = (w) => {
  const n = w.length;
  const mean = w.reduce((s, x) => s + x, 0) / n;
  const std = n > 1 ? Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return w.map((x) => mean + std * ((x - mean) / (std + 1e-5) >= 0 ? 0.6745 : -0.6745));
};
const trained = (leaf, role) => (leaf.key.includes("quantized.") ? binarize(leaf.tensors[role]) : leaf.tensors[role]);

const region = (entry) => {
  const w = weights.get(entry.param);
  const cols = w.shape.slice(1).reduce((a, b) => a * b, 1);
  const [r0, r1] = entry.rows ?? [0, w.shape[0]];
  return { w, rows: r1 - r0, cols, offset: r0 * cols, r0 };
};

const roles = (leaf) => Object.keys(leaf.tensors);
const ordered = [...leaves.values()];

// Pass 1: `value` replaces its region.
for (const leaf of ordered.filter((l) => roles(l).includes("value"))) {
  const { w, offset } = region(leaf.entry);
  w.data.set(trained(leaf, "value"), offset);
}

// Pass 2: additive ΔW, moved by every enclosing permutation (innermost first), added on.
for (const leaf of ordered.filter((l) => roles(l).some((r) => ["lora_A", "spectrum", "scale_left"].includes(r)))) {
  const { w, rows, cols, offset } = region(leaf.entry);
  let d = new Float64Array(rows * cols);
  if (leaf.tensors.lora_A) {
    const A = trained(leaf, "lora_A");
    const B = trained(leaf, "lora_B");
    const r = A.length / cols;
    for (let o = 0; o < rows; o++)
      for (let i = 0; i < cols; i++) {
        let s = 0;
        for (let k = 0; k < r; k++) s += B[o * r + k] * A[k * cols + i];
        d[o * cols + i] = leaf.scale * s;
      }
  } else if (leaf.tensors.spectrum) {
    const c = trained(leaf, "spectrum");
    const p = leaf.tensors.positions;
    for (let i = 0; i < p.length; i++) {
      const u = Math.floor(p[i] / cols);
      const v = p[i] % cols;
      for (let j = 0; j < rows; j++)
        for (let k = 0; k < cols; k++) d[j * cols + k] += (leaf.scale * c[i] * Math.cos(2 * Math.PI * ((u * j) / rows + (v * k) / cols))) / (rows * cols);
    }
  } else {
    const l = trained(leaf, "scale_left");
    const r = trained(leaf, "scale_right");
    const W0 = pretrained.get(leaf.entry.param);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[i * cols + j] = l[i] * r[j] * W0[offset + i * cols + j];
  }
  const [site, target, path] = (() => {
    const parts = leaf.key.split("/");
    return [parts[0], parts[1], parts.slice(2).join("/")];
  })();
  const wrappers = ordered
    .filter((o) => roles(o).includes("perm_rows"))
    .map((o) => ({ o, prefix: o.key.slice(`${site}/${target}/`.length) }))
    .filter(({ o, prefix }) => o.key.startsWith(`${site}/${target}/`) && path.startsWith(`${prefix}permuted.`))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  for (const { o } of wrappers) {
    const moved = new Float64Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) moved[o.tensors.perm_rows[i] * cols + o.tensors.perm_cols[j]] = d[i * cols + j];
    d = moved;
  }
  for (let i = 0; i < d.length; i++) w.data[offset + i] += d[i];
}

// Pass 3: SSF on the module's output: weight rows × γ, bias ← γ·bias + β.
for (const leaf of ordered.filter((l) => roles(l).includes("ssf_scale"))) {
  const { w, rows, cols, offset, r0 } = region(leaf.entry);
  const gamma = trained(leaf, "ssf_scale");
  const beta = trained(leaf, "ssf_shift");
  const bias = weights.get(leaf.entry.param.replace(/\.weight$/, ".bias"));
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) w.data[offset + i * cols + j] *= gamma[i];
    bias.data[r0 + i] = bias.data[r0 + i] * gamma[i] + beta[i];
  }
}

// Modules beside each block's MLP: a kept one first (as adapted above), then the adapter's,
// each with its scale folded into up.
const modules = new Map();
for (const leaf of ordered.filter((l) => roles(l).includes("down_weight"))) {
  const block = Number(/^blocks\.(\d+)\./.exec(leaf.entry.param)[1]);
  const width = config.width;
  if (!modules.has(block)) {
    const kept = `blocks.${block}.adaptmlp`;
    modules.set(
      block,
      weights.has(`${kept}.down_proj.weight`)
        ? [
            {
              down: weights.get(`${kept}.down_proj.weight`).data,
              downBias: weights.get(`${kept}.down_proj.bias`).data,
              up: weights.get(`${kept}.up_proj.weight`).data,
              upBias: weights.get(`${kept}.up_proj.bias`).data,
              scale: 1,
            },
          ]
        : [],
    );
  }
  const down = trained(leaf, "down_weight");
  modules.get(block).push({
    down,
    up: trained(leaf, "up_weight"),
    scale: leaf.scale,
    downBias: leaf.tensors.down_bias ? trained(leaf, "down_bias") : new Float64Array(down.length / width),
    upBias: leaf.tensors.up_bias ? trained(leaf, "up_bias") : new Float64Array(width),
  });
}
for (const [block, mods] of modules) {
  const width = config.width;
  const b = mods.reduce((n, m) => n + m.down.length / width, 0);
  const up = new Float64Array(width * b);
  let at = 0;
  for (const m of mods) {
    const k = m.down.length / width;
    for (let o = 0; o < width; o++) for (let j = 0; j < k; j++) up[o * b + at + j] = m.scale * m.up[o * k + j];
    at += k;
  }
  const concat = (xs) => Float64Array.from(xs.flatMap((x) => [...x]));
  const upBias = new Float64Array(width);
  for (const m of mods) for (let o = 0; o < width; o++) upBias[o] += m.scale * m.upBias[o];
  const p = `blocks.${block}.adaptmlp`;
  weights.set(`${p}.down_proj.weight`, { shape: [b, width], data: concat(mods.map((m) => m.down)) });
  weights.set(`${p}.down_proj.bias`, { shape: [b], data: concat(mods.map((m) => m.downBias)) });
  weights.set(`${p}.up_proj.weight`, { shape: [width, b], data: up });
  weights.set(`${p}.up_proj.bias`, { shape: [width], data: upBias });
  for (const suffix of ["down_proj.weight", "down_proj.bias", "up_proj.weight", "up_proj.bias"])
    pretrained.set(`${p}.${suffix}`, new Float64Array(weights.get(`${p}.${suffix}`).data.length));
}

// ‖ΔW_rebuilt − ΔW_merged‖ / ‖ΔW_merged‖ for every parameter that changed.
let worst = 0;
let changed = 0;
for (const [name, m] of merged.tensors) {
  const rebuilt = weights.get(name);
  if (!rebuilt) throw new Error(`merged has ${name}, the rebuild does not`);
  const w0 = pretrained.get(name);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < m.data.length; i++) {
    diff += (rebuilt.data[i] - m.data[i]) ** 2;
    norm += (m.data[i] - w0[i]) ** 2;
  }
  if (norm === 0 && diff === 0) continue;
  changed += 1;
  worst = Math.max(worst, Math.sqrt(diff / norm));
}
console.log(JSON.stringify({ changed, worstRelativeError: worst, tolerance }));
process.exit(worst <= tolerance ? 0 : 1);

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/program.js";
import { writeSafetensors } from "../../src/models/safetensors.js";
import { projectRoot } from "../support/peftCli.js";
import { cpuSecondsOf } from "../support/cpuBudget.js";

/*
 * Generated bad input against the CLI's commands, in process: corrupt safetensors files (header
 * length, offsets, dtypes, shapes, metadata, truncation) as checkpoints and adapters, and
 * malformed experiment JSON. Each must end in exit 0 or 2, with a message on stderr for 2, no
 * stack trace, nothing written, in bounded work: the CPU time of a few ordinary valid calls,
 * measured here (CPU, not wall time, so a busy machine does not fail it). `npm test` runs a few
 * hundred with a fixed seed; `npm run fuzz` (PEFT_FUZZ_RUNS) ten thousand.
 */
const runs = Number(process.env.PEFT_FUZZ_RUNS ?? 150);
const seed = Number(process.env.PEFT_FUZZ_SEED ?? 7);
const work = mkdtempSync(join(tmpdir(), "peft-fuzz-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Run `peft ARGV…` in process, with stderr captured. */
const call = async (argv: string[]) => {
  const write = process.stderr.write.bind(process.stderr);
  let stderr = "";
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  const stdoutWrite = process.stdout.write.bind(process.stdout);
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const { value: code, cpuSeconds } = await cpuSecondsOf(() => runCli(argv));
    return { code, stderr, cpuSeconds };
  } finally {
    process.stderr.write = write;
    process.stdout.write = stdoutWrite;
  }
};

/** CPU seconds of the costlier of the valid calls fuzzed here: a forward of the intact checkpoint. */
let ordinaryCpu = Infinity;
const expectHandled = (r: { code: number; stderr: string; cpuSeconds: number }, what: string) => {
  expect([0, 2], `${what}: exit ${r.code}\n${r.stderr}`).toContain(r.code);
  if (r.code === 2) expect(r.stderr, what).toMatch(/^peft: \S/);
  expect(r.stderr, what).not.toMatch(/\n\s+at \S+ \(/);
  expect(r.cpuSeconds, what).toBeLessThan(5 * ordinaryCpu);
};

// A valid small backbone file and a valid image input to corrupt from.
const base = readFileSync(join(projectRoot, "assets/vit-mnist04.safetensors"));
beforeAll(async () => {
  writeFileSync(join(work, "x.safetensors"), writeSafetensors([{ name: "images", shape: [1, 28, 28, 1], data: new Float32Array(784) }]));
  const forward = () =>
    call([
      "forward",
      "--weights",
      join(projectRoot, "assets/vit-mnist04.safetensors"),
      "--input",
      join(work, "x.safetensors"),
      "--out",
      join(work, "ok.safetensors"),
      "--backend",
      "cpu",
    ]);
  // The first call also loads the backend; the second is the ordinary cost.
  for (const _ of [1, 2]) {
    rmSync(join(work, "ok.safetensors"), { force: true });
    const r = await forward();
    expect(r.code, r.stderr).toBe(0);
    ordinaryCpu = r.cpuSeconds;
  }
  rmSync(join(work, "ok.safetensors"));
});

const headerOf = (bytes: Uint8Array) => {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return { n, json: JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString("utf8")) as Record<string, unknown> };
};
const withHeader = (bytes: Uint8Array, header: unknown, declared?: bigint): Uint8Array => {
  const { n } = headerOf(bytes);
  const text = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + text.length + bytes.length - 8 - n);
  new DataView(out.buffer).setBigUint64(0, declared ?? BigInt(text.length), true);
  out.set(text, 8);
  out.set(bytes.subarray(8 + n), 8 + text.length);
  return out;
};

/** One corruption of a safetensors file, as a function of the original bytes. */
const corruption = fc.oneof(
  fc.record({ kind: fc.constant("header length"), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }).map((c) => (b: Uint8Array) => {
    const out = Uint8Array.from(b);
    new DataView(out.buffer).setBigUint64(0, c.value, true);
    return out;
  }),
  fc.nat().map((cut) => (b: Uint8Array) => b.subarray(0, cut % b.length)),
  fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }).map((c) => (b: Uint8Array) => {
    const out = Uint8Array.from(b);
    out[8 + (c.at % Math.min(out.length - 8, headerOf(b).n))] = c.byte;
    return out;
  }),
  fc
    .record({
      field: fc.constantFrom("dtype", "shape", "data_offsets"),
      value: fc.oneof(
        fc.constantFrom("F32", "F16", "BF16", "I64", "U8", "BOOL", "F8", "", "f32"),
        fc.array(fc.oneof(fc.integer({ min: -5, max: 1 << 30 }), fc.double()), { maxLength: 5 }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      pick: fc.nat(),
    })
    .map((c) => (b: Uint8Array) => {
      const { json } = headerOf(b);
      const names = Object.keys(json).filter((k) => k !== "__metadata__");
      const name = names[c.pick % names.length]!;
      return withHeader(b, { ...json, [name]: { ...(json[name] as object), [c.field]: c.value } });
    }),
  fc
    .record({
      key: fc.constantFrom("config", "format", "method", "layout", "head", "epochs"),
      value: fc.oneof(
        fc.string(),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      ),
    })
    .map((c) => (b: Uint8Array) => {
      const { json } = headerOf(b);
      return withHeader(b, { ...json, __metadata__: { ...(json.__metadata__ as object), [c.key]: c.value } });
    }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => (b: Uint8Array) => withHeader(b, v)),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => () => bytes),
);

const experiment = JSON.parse(readFileSync(join(projectRoot, "examples/experiments/lora.json"), "utf8")) as Record<string, unknown>;

/** Paths into the experiment, to replace or delete. */
const paths = (u: unknown, prefix: (string | number)[] = []): (string | number)[][] =>
  u !== null && typeof u === "object" ? [prefix, ...Object.entries(u).flatMap(([k, v]) => paths(v, [...prefix, Array.isArray(u) ? Number(k) : k]))] : [prefix];
const allPaths = paths(experiment).filter((p) => p.length > 0);
const setAt = (root: unknown, path: readonly (string | number)[], value: unknown): unknown => {
  if (path.length === 0) return value;
  // An earlier change replaced this part with a scalar: nothing left to change inside it.
  if (root === null || typeof root !== "object") return root;
  const [head, ...rest] = path;
  const copy: Record<string | number, unknown> = Array.isArray(root) ? ([...root] as unknown as Record<number, unknown>) : { ...(root as object) };
  if (rest.length === 0 && value === undefined) delete copy[head!];
  else copy[head!] = setAt((root as Record<string | number, unknown>)[head!], rest, value);
  return copy;
};
const badValue = fc.oneof(
  fc.constant(undefined),
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(1e9, -1, 0, 1e308, 100_000_000, 0.5, "", "x", null, []),
  fc.integer({ min: 66, max: 2000 }).map((depth) => JSON.parse(`${"[".repeat(depth)}${"]".repeat(depth)}`)),
);
const mutation = fc.array(fc.record({ path: fc.constantFrom(...allPaths), value: badValue }), { minLength: 1, maxLength: 4 });

describe("fuzzing the CLI's inputs", () => {
  it("corrupt checkpoints (--weights) and adapters (--adapter): exit 0 or 2, a message, no stack trace, nothing written", async () => {
    let i = 0;
    await fc.assert(
      fc.asyncProperty(corruption, fc.boolean(), async (corrupt, asAdapter) => {
        const file = join(work, `c${i}.safetensors`);
        const out = join(work, `y${i++}.safetensors`);
        writeFileSync(file, corrupt(base));
        const args = asAdapter ? ["--weights", join(projectRoot, "assets/vit-mnist04.safetensors"), "--adapter", file] : ["--weights", file];
        const r = await call(["forward", ...args, "--input", join(work, "x.safetensors"), "--out", out, "--backend", "cpu"]);
        expectHandled(r, file);
        if (r.code !== 0) expect(existsSync(out)).toBe(false);
        rmSync(file);
        rmSync(out, { force: true });
      }),
      { numRuns: runs, seed },
    );
    expect(readdirSync(work).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("malformed experiments: exit 0 or 2, a message naming what is wrong, no stack trace", async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (changes) => {
        const mutated = changes.reduce<unknown>((e, c) => setAt(e, c.path, c.value), experiment);
        const file = join(work, "e.json");
        writeFileSync(file, JSON.stringify(mutated) ?? "null");
        expectHandled(await call(["count", file]), JSON.stringify(changes).slice(0, 300));
      }),
      { numRuns: runs, seed },
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftIn, projectRoot } from "../support/peftCli.js";
import { readSafetensors, toTensorData, writeSafetensors, type NamedTensor } from "../../src/models/safetensors.js";

/* What `peft forward` is given is checked before it computes: an adapter against its own method, outputs, non-finite values. */
const work = mkdtempSync(join(tmpdir(), "peft-forward-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const peft = peftIn(work);
const base = join(projectRoot, "assets/vit-mnist04.safetensors");

let adapter: { tensors: NamedTensor[]; metadata: Record<string, string> };
beforeAll(() => {
  writeFileSync(
    join(work, "exp.json"),
    JSON.stringify({
      name: "forward input test",
      data: { _tag: "Mnist", digits: [5, 6, 7], split: { _tag: "Vtab1k", train: 32, val: 0 }, testLimit: 20 },
      method: {
        targets: [
          { select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 4, alpha: 4 } },
          { select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } },
        ],
      },
      optimizer: { _tag: "AdamW", lr: 0.005 },
      schedule: { epochs: 1, batchSize: 16 },
    }),
  );
  const r = peft("train", "exp.json", "--out", "run", "--backend", "wasm");
  expect(r.code, r.stderr).toBe(0);
  const file = readSafetensors(readFileSync(join(work, "run/adapter.safetensors")));
  adapter = { tensors: [...file.tensors].map(([name, t]) => ({ name, shape: t.shape, data: toTensorData(t, name) })), metadata: file.metadata };
  writeFileSync(
    join(work, "x.safetensors"),
    writeSafetensors([{ name: "images", shape: [2, 28, 28, 1], data: Float32Array.from({ length: 2 * 784 }, (_, i) => Math.sin(i)) }]),
  );
});

const forward = (adapterFile: string | null, out: string, ...more: string[]) =>
  peft(
    "forward",
    "--weights",
    base,
    ...(adapterFile === null ? [] : ["--adapter", adapterFile]),
    "--input",
    "x.safetensors",
    "--out",
    out,
    "--backend",
    "wasm",
    ...more,
  );

const withTensors = (name: string, tensors: NamedTensor[]) => {
  writeFileSync(join(work, name), writeSafetensors(tensors, adapter.metadata));
  return name;
};

describe("peft forward input checks", () => {
  it("an adapter with a tensor missing, relabelled to another shape, or one too many is exit 2 naming the tensor; nothing written", () => {
    const loraA = adapter.tensors.find((t) => t.name.endsWith("lora_A"))!;
    expect(loraA.shape).toEqual([4, 64]);
    const others = adapter.tensors.filter((t) => t !== loraA);
    const cases: [string, NamedTensor[], string][] = [
      ["missing.safetensors", others, `tensor ${loraA.name} is missing`],
      ["relabelled3d.safetensors", [...others, { ...loraA, shape: [64, 4, 1] }], `tensor ${loraA.name} has shape [64,4,1], its method needs [4,64]`],
      ["relabelled.safetensors", [...others, { ...loraA, shape: [128, 2] }], `tensor ${loraA.name} has shape [128,2]`],
      [
        "extra.safetensors",
        [...adapter.tensors, { name: "blocks.0.attn.proj.weight/9/lora_A", shape: [1], data: new Float32Array(1) }],
        "tensor blocks.0.attn.proj.weight/9/lora_A is not one its method has",
      ],
    ];
    for (const [file, tensors, message] of cases) {
      const r = forward(withTensors(file, tensors), `y-${file}`);
      expect(r.code, file).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(work, `y-${file}`))).toBe(false);
    }
    expect(forward(withTensors("intact.safetensors", adapter.tensors), "y-intact.safetensors").code).toBe(0);
  });

  it("--out naming a directory, a missing folder or an existing file is exit 2 without a stack trace", () => {
    mkdirSync(join(work, "adir"));
    for (const [out, message] of [
      ["adir", "is a directory"],
      ["no/such/y.safetensors", "does not exist"],
      ["y-intact.safetensors", "already exists"],
    ] as const) {
      const r = forward(null, out);
      expect(r.code, out).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("non-finite weights or inputs are warned about (count per tensor); --strict refuses them", () => {
    const loraB = adapter.tensors.find((t) => t.name.endsWith("lora_B"))!;
    const data = Float32Array.from(loraB.data as Float32Array);
    data[0] = NaN;
    data[3] = Infinity;
    const poisoned = withTensors("nan.safetensors", [...adapter.tensors.filter((t) => t !== loraB), { ...loraB, data }]);
    const warned = forward(poisoned, "y-nan.safetensors");
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain(`warning: --adapter: 2 non-finite value(s) in ${loraB.name}`);
    expect(warned.stderr).toContain("warning: output:");
    const strict = forward(poisoned, "y-strict.safetensors", "--strict");
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(`2 non-finite value(s) in ${loraB.name}`);
    expect(existsSync(join(work, "y-strict.safetensors"))).toBe(false);
    writeFileSync(join(work, "xnan.safetensors"), writeSafetensors([{ name: "images", shape: [1, 28, 28, 1], data: new Float32Array(784).fill(NaN) }]));
    const input = peft("forward", "--weights", base, "--input", "xnan.safetensors", "--out", "y-xnan.safetensors", "--strict");
    expect(input.code).toBe(2);
    expect(input.stderr).toContain("--input: 784 non-finite value(s) in images");
  });
});

import { describe, expect, it } from "vitest";
import { isLeft, isRight } from "fp-ts/lib/Either.js";
import { readFileSync, readdirSync } from "node:fs";
import { Cause, Effect, Exit, Option } from "effect";
import { decodeExperiment, decodeMethod, type ExperimentInput } from "../../src/dsl/codecs.js";
import { method, target } from "../../src/dsl/method.js";
import { role } from "../../src/dsl/selector.js";
import { lowRank } from "../../src/dsl/transform.js";
import { tfBackendLayer } from "../../src/train/backend.js";
import { BadInput } from "../../src/train/errors.js";
import { runExperiment } from "../../src/train/runExperiment.js";
import { silentProgress } from "../../src/train/progress.js";

const errorsOf = (r: ReturnType<typeof decodeExperiment>): readonly string[] => (isLeft(r) ? r.left : []);

const experiment = (): Record<string, any> => ({
  data: { _tag: "Mnist", digits: [5, 6] },
  method: { targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 4, alpha: 4 } }] },
  optimizer: { _tag: "AdamW", lr: 0.001 },
  schedule: { epochs: 1, batchSize: 8 },
});

describe("experiment and method codecs", () => {
  it("fill documented defaults for fields left out", () => {
    const r = decodeExperiment(experiment());
    expect(isRight(r)).toBe(true);
    if (!isRight(r)) return;
    expect(r.right.backbone).toEqual({ weights: "default", head: "reset" });
    expect(r.right.data).toEqual({ _tag: "Mnist", digits: [5, 6], split: { _tag: "Vtab1k", train: 800, val: 200 }, seed: 0, testLimit: null });
    expect(r.right.method.targets[0]!.transform).toEqual({ _tag: "LowRank", rank: 4, alpha: 4, scaling: "alpha/rank" });
    expect(r.right.optimizer).toEqual({ _tag: "AdamW", lr: 0.001, weightDecay: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8 });
  });

  const bad: Array<[string, (e: Record<string, any>) => void, string]> = [
    [
      "a rank given as a string",
      (e) => {
        e.method.targets[0].transform.rank = "8";
      },
      'expected integer in [1, 65,536] at method.targets[0].transform.rank, got "8"',
    ],
    [
      "a misspelt field",
      (e) => {
        e.method.targets[0].transform.rnak = 8;
      },
      'unknown field "rnak" at method.targets[0].transform (allowed: _tag, rank, alpha, scaling)',
    ],
    [
      "an unknown role",
      (e) => {
        e.method.targets[0].select.role = "query";
      },
      'at method.targets[0].select.role, got "query"',
    ],
    [
      "an unknown transform",
      (e) => {
        e.method.targets[0].transform = { _tag: "LoRA" };
      },
      'expected _tag one of "LowRank" | "Full" | "Spectral" | "Rescale" | "ScaleShift" | "ParallelAdapter" | "Custom" | "Frozen" | "Sum" | "Permuted" | "Quantized" at method.targets[0].transform._tag, got "LoRA"',
    ],
    [
      "a spectral transform without coefficients",
      (e) => {
        e.method.targets[0].transform = { _tag: "Spectral", scale: 300 };
      },
      "expected integer in [1, 268,435,456] at method.targets[0].transform.coefficients, got nothing",
    ],
    [
      "a bad spectral position sharing",
      (e) => {
        e.method.targets[0].transform = { _tag: "Spectral", coefficients: 3, scale: 1, positions: { _tag: "Uniform", share: "layer" } };
      },
      'expected share ("shape" | "site") at method.targets[0].transform.positions.share, got "layer"',
    ],
    [
      "2-bit quantisation (only 1 bit is defined)",
      (e) => {
        e.method.targets[0].transform = { _tag: "Quantized", bits: 2, inner: { _tag: "LowRank", rank: 1, alpha: 1 } };
      },
      "expected bits (1) at method.targets[0].transform.bits, got 2",
    ],
    [
      "a negative learning rate",
      (e) => {
        e.optimizer.lr = -1;
      },
      "expected number > 0 at optimizer.lr, got -1",
    ],
    [
      "a missing schedule field",
      (e) => {
        delete e.schedule.epochs;
      },
      "expected integer in [1, 1,000,000] at schedule.epochs, got nothing",
    ],
    [
      "a digit out of range",
      (e) => {
        e.data.digits = [5, 12];
      },
      "expected digit 0-9 at data.digits[1], got 12",
    ],
    [
      "a repeated digit",
      (e) => {
        e.data.digits = [5, 5];
      },
      "expected at least two distinct digits at data.digits, got [5,5]",
    ],
    [
      "an unknown rule action",
      (e) => {
        e.method.rules = [{ when: { _tag: "Once" }, action: { _tag: "Prune" } }];
      },
      'expected _tag one of "GradientEstimate" | "FeatureStatistics" | "Reconfigure" at method.rules[0].action._tag, got "Prune"',
    ],
    [
      "a reconfigure budget above 1",
      (e) => {
        e.method.rules = [{ when: { _tag: "Every", n: 10, unit: "epochs" }, action: { _tag: "Reconfigure", budget: 1.5 } }];
      },
      "expected number in (0, 1] at method.rules[0].action.budget, got 1.5",
    ],
    [
      "a zero reconfigure period",
      (e) => {
        e.method.rules = [{ when: { _tag: "Every", n: 0, unit: "epochs" }, action: { _tag: "Reconfigure" } }];
      },
      "expected integer ≥ 1 at method.rules[0].when.n, got 0",
    ],
    [
      "an unknown period unit",
      (e) => {
        e.method.rules = [{ when: { _tag: "Every", n: 2, unit: "batches" }, action: { _tag: "Reconfigure" } }];
      },
      'expected unit ("epochs" | "steps") at method.rules[0].when.unit, got "batches"',
    ],
    [
      "a misspelt category ratio",
      (e) => {
        e.method.rules = [{ when: { _tag: "Once" }, action: { _tag: "Reconfigure", ratios: { matrix: 0.5 } } }];
      },
      'unknown field "matrix" at method.rules[0].action.ratios',
    ],
    [
      "an unknown analysis",
      (e) => {
        e.method.rules = [{ when: { _tag: "Once" }, action: { _tag: "Reconfigure", analysis: "naive" } }];
      },
      'expected analysis ("context" | "pristine") at method.rules[0].action.analysis, got "naive"',
    ],
    [
      "an EMA weight of 1",
      (e) => {
        e.method.rules = [{ when: { _tag: "Once" }, action: { _tag: "Reconfigure", ema: 1 } }];
      },
      "expected number in [0, 1) or null at method.rules[0].action.ema, got 1",
    ],
    [
      "a step learning-rate shape without a factor",
      (e) => {
        e.schedule.shape = { _tag: "Step", everyEpochs: 3 };
      },
      "expected number in (0, 1] at schedule.shape.factor, got nothing",
    ],
    [
      "a non-positive γ",
      (e) => {
        e.method.targets[0].transform = { _tag: "Spectral", coefficients: 3, scale: 1, positions: { _tag: "Weighted", gamma: 0 } };
      },
      "expected number > 0 at method.targets[0].transform.positions.gamma, got 0",
    ],
    [
      "an unknown loss term",
      (e) => {
        e.method.losses = [{ _tag: "Kd" }];
      },
      'expected _tag one of "Baft" | "Rift" | "Rsc" | "L2SP" at method.losses[0]._tag, got "Kd"',
    ],
    [
      "BAFT layers that are not a choice or a list",
      (e) => {
        e.method.losses = [{ _tag: "Baft", layers: "middle" }];
      },
      'expected layers ("all" | "early" | "late" | block indices) at method.losses[0].layers, got "middle"',
    ],
    [
      "an unknown mini-VTAB task",
      (e) => {
        e.data = { _tag: "MiniVtab", name: "clevr" };
      },
      'at data.name, got "clevr"',
    ],
    [
      "a zero mini-VTAB test size",
      (e) => {
        e.data = { _tag: "MiniVtab", name: "count", testSize: 0 };
      },
      "expected integer in [1, 100,000] at data.testSize, got 0",
    ],
    [
      "a label smoothing of 1",
      (e) => {
        e.labelSmoothing = 1;
      },
      "expected number in [0, 1) at labelSmoothing, got 1",
    ],
    [
      "a misspelt metrics field",
      (e) => {
        e.metrics = { example: 5 };
      },
      'unknown field "example" at metrics',
    ],
    [
      "a bad head policy",
      (e) => {
        e.backbone = { head: "drop" };
      },
      'expected head ("reset" | "keep") at backbone.head, got "drop"',
    ],
  ];
  for (const [what, edit, message] of bad) {
    it(`reject ${what}, naming the field and what was expected`, () => {
      const e = experiment();
      edit(e);
      const errors = errorsOf(decodeExperiment(e));
      expect(
        errors.some((l) => l.includes(message)),
        errors.join("\n"),
      ).toBe(true);
    });
  }

  it("report every bad field at once", () => {
    const e = experiment();
    e.optimizer.lr = 0;
    e.schedule.batchSize = 0;
    expect(errorsOf(decodeExperiment(e))).toHaveLength(2);
  });

  it("decode a bare method with the same paths", () => {
    const r = decodeMethod({ targets: [{ select: { _tag: "Blocks", from: "a" }, transform: { _tag: "Full" } }] });
    expect(isLeft(r) ? r.left : []).toContain('expected integer at targets[0].select.from, got "a"');
  });

  it("accept every shipped example experiment", () => {
    const dir = new URL("../../examples/experiments/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) expect(errorsOf(decodeExperiment(JSON.parse(readFileSync(new URL(f, dir), "utf8")))), f).toEqual([]);
  });

  it("decode every shipped example experiment to itself when read again (what runExperiment does with a decoded one)", () => {
    const dir = new URL("../../examples/experiments/", import.meta.url);
    for (const f of readdirSync(dir).filter((name) => name.endsWith(".json"))) {
      const once = decodeExperiment(JSON.parse(readFileSync(new URL(f, dir), "utf8")));
      const twice = isRight(once) ? decodeExperiment(once.right) : once;
      expect(twice, f).toEqual(once);
    }
  });
});

describe("JSON and TypeScript accept the same things", () => {
  it("a LowRank without alpha is α = r in JSON, as lowRank({ rank }) is in TypeScript", () => {
    const json = decodeMethod({ targets: [{ select: { _tag: "Role", role: "q" }, transform: { _tag: "LowRank", rank: 4 } }] });
    expect(json).toEqual({ _tag: "Right", right: method({ targets: [target(role("q"), lowRank({ rank: 4 }))] }) });
    expect(isRight(json) && json.right.targets[0]!.transform).toEqual({ _tag: "LowRank", rank: 4, alpha: 4, scaling: "alpha/rank" });
  });

  it("a nullable object's own defaults apply (augment.crop with scale only), and a value failing as a whole is one expectation", () => {
    const r = decodeExperiment({ ...experiment(), augment: { crop: { scale: [0.5, 1] } } });
    expect(isRight(r) && r.right.augment).toEqual({ flip: true, crop: { scale: [0.5, 1], ratio: [3 / 4, 4 / 3] } });
    expect(errorsOf(decodeExperiment({ ...experiment(), augment: { crop: { scale: [0.5, 2] } } }))).toEqual([
      "expected [min, max] with 0 < min ≤ max ≤ 1 at augment.crop.scale, got [0.5,2]",
    ]);
    expect(errorsOf(decodeExperiment({ ...experiment(), data: { _tag: "Mnist", digits: [5, 6], testLimit: 0 } }))).toEqual([
      "expected integer ≥ 1 or null at data.testLimit, got 0",
    ]);
  });

  it("runExperiment takes an ExperimentInput and decodes it: a bad field is BadInput naming it, before anything is read or written", async () => {
    const input: ExperimentInput = { ...(experiment() as ExperimentInput), optimizer: { _tag: "AdamW", lr: -1 } };
    const exit = await Effect.runPromiseExit(
      Effect.scoped(runExperiment(input, { outDir: "/nonexistent/never", resume: false, progress: silentProgress, baseDir: "." })).pipe(
        Effect.provide(tfBackendLayer("cpu")),
      ),
    );
    const error = Exit.isFailure(exit) ? Cause.findErrorOption(exit.cause) : Option.none();
    expect(Option.isSome(error) && error.value instanceof BadInput && error.value.lines).toEqual(["experiment: expected number > 0 at optimizer.lr, got -1"]);
  });
});

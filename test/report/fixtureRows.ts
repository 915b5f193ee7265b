import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Row } from "../../src/sweep/results.js";
import { configurationHeatmap } from "../../src/interpreters/rules/configurationHeatmap.js";
import { candidateUnits } from "../../src/interpreters/rules/units.js";
import { reconfigure } from "../../src/dsl/rule.js";
import type { ReconfigurationRecord } from "../../src/interpreters/rules/reconfigure.js";
import { decodeExperiment, ExperimentCodec } from "../../src/dsl/codecs.js";
import { isLeft } from "fp-ts/lib/Either.js";

/** A real DAF activation map: two reconfigurations of the demo ViT's candidates over three epochs. */
const dafMap = (): string => {
  const config = { image: 28, channels: 1, patch: 4, width: 64, depth: 4, heads: 4, mlpRatio: 4, classes: 5, layerNormEps: 1e-6, gelu: "erf" as const };
  const units = candidateUnits(reconfigure(), config);
  const record = (index: number, step: number, active: string[], present: string[]): ReconfigurationRecord => ({
    index,
    epoch: index,
    step,
    analysis: "context",
    scores: {},
    active,
    present,
    budget: { matrices: 1, vectors: 1, special: 1 },
    selected: { matrices: 1, vectors: 1, special: 1 },
    trainable: 1,
    seconds: { perceive: 1, decide: 0, execute: 0 },
  });
  const [a, b, c] = [units[5]!.name, units[12]!.name, units[0]!.name];
  return configurationHeatmap({ records: [record(0, 0, [a, c], [a, c]), record(1, 10, [b], [a, b, c])], epochEnds: [10, 20, 30], units, retain: "refocus" });
};

/** The experiment a row records, as a run writes it (every default written out); the setup never names the task. */
export const fixtureExperiment = (lr: number): unknown => {
  const e = decodeExperiment({
    data: { _tag: "MiniVtab", name: "digits", split: { _tag: "Vtab1k", train: 800, val: 200 }, testSize: 2000 },
    method: { targets: [{ select: { _tag: "Role", role: "head" }, transform: { _tag: "Full" } }] },
    optimizer: { _tag: "AdamW", lr, weightDecay: 0.0001 },
    schedule: { epochs: 5, batchSize: 32, warmupEpochs: 1 },
  });
  if (isLeft(e)) throw new Error(e.left.join("\n"));
  return ExperimentCodec.encode(e.right);
};

/** The demo ViT's shape, as a run's merged weights record it. */
export const demoShape = { image: 28, channels: 1, patch: 4, width: 64, depth: 4, heads: 4, mlpRatio: 4, classes: 5, layerNormEps: 1e-6, gelu: "erf" };

const row = (o: Partial<Row> & Pick<Row, "method" | "task" | "group" | "seed">): Row => ({
  id: `${o.method}-${JSON.stringify(o.params ?? {})}-${o.task}-${o.seed}`,
  name: `${o.method}__${o.task}__s${o.seed}`,
  sweep: "fixture",
  params: {},
  status: "ok",
  runDir: `runs/${o.method}-${o.task}-${o.seed}`,
  trainable: 1000,
  trainablePercent: 0.5,
  trainSeconds: 10,
  finishedAt: "2026-11-22T00:00:00Z",
  // DAF runs with its own learning rate: the setup states both.
  experiment: fixtureExperiment(o.method === "daf" ? 0.001 : 0.005),
  backbone: demoShape,
  curve: [
    { epoch: 0, trainLoss: 1.2, valAccuracy: 0.5 },
    { epoch: 1, trainLoss: 0.8, valAccuracy: 0.7 },
  ],
  ...o,
});

/**
 * Rows of a small sweep with every kind of figure in it: two methods over one task per group
 * and two seeds, a λ grid, Sim values, a DAF run with its activation map and an S²FT run with
 * its spectrum record. Run directories are written under `dir`.
 */
export const fixtureRows = (dir: string): Row[] => {
  const tasks = [
    ["digits", "natural"],
    ["noisy", "specialized"],
    ["count", "structured"],
  ] as const;
  const rows: Row[] = [];
  tasks.forEach(([task, group], t) =>
    [0, 1].forEach((seed) => {
      rows.push(row({ method: "lora", task, group, seed, testAccuracy: 0.8 + 0.02 * t + 0.01 * seed, sim: 0.5 + 0.1 * seed }));
      for (const weight of [0.001, 0.01, 0.1])
        rows.push(row({ method: "lora-baft", params: { "method.losses[0].weight": weight }, task, group, seed, testAccuracy: 0.7 + weight, sim: 0.6 }));
      rows.push(row({ method: "daf", task, group, seed, testAccuracy: 0.75, reconfigureSeconds: 3 }));
      rows.push(row({ method: "s2ft", task, group, seed, testAccuracy: 0.7 }));
    }),
  );
  for (const r of rows) {
    mkdirSync(join(dir, r.runDir), { recursive: true });
    if (r.method === "daf") writeFileSync(join(dir, r.runDir, "configurations.svg"), dafMap());
    if (r.method === "s2ft") {
      const spectrum = { identity: [0.1, 0.1, 0.1, 0.1, 0.15, 0.15, 0.15, 0.15], permuted: [0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.01, 0.01] };
      writeFileSync(
        join(dir, r.runDir, "result.json"),
        JSON.stringify({
          preludes: [
            {
              rule: "once: gradientEstimate",
              sites: [
                { site: "a", spectrum },
                { site: "b", spectrum },
              ],
            },
          ],
        }),
      );
    }
  }
  rows.push({ ...row({ method: "lora", task: "count", group: "structured", seed: 2 }), status: "failed", error: "exit 3: peft: loss is not finite" });
  return rows;
};

/** Names as a hostile sweep could give them: markup, Markdown, a newline, quotes that end an attribute. */
export const hostileNames = {
  img: `<img src=x onerror="document.title='pwned'">`,
  attribute: `x" onmouseover="document.title='pwned'`,
  link: "](javascript:alert(1)) [x",
  task: "t|a\nb **c** `d` <b>e</b> &amp; _f_",
  sweep: "<script>document.title='pwned'</script>\n# heading",
  error: "exit 1: <img src=x onerror=alert(1)>",
};

/** Rows of a sweep whose names are hostile: a method with a numeric grid (a sensitivity figure), one failed job. */
export const hostileRows = (): Row[] => {
  const h = hostileNames;
  const rows = [h.img, h.attribute, h.link].flatMap((method) =>
    [0.1, 0.2].map((weight) =>
      row({
        method,
        params: method === h.attribute ? { weight } : {},
        task: h.task,
        group: "natural",
        seed: weight === 0.1 ? 0 : 1,
        sweep: h.sweep,
        testAccuracy: 0.5 + weight,
      }),
    ),
  );
  rows.push({ ...row({ method: h.img, task: h.task, group: "natural", seed: 9, sweep: h.sweep }), status: "failed", error: h.error });
  return rows;
};

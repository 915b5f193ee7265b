import { decodeWith } from "../util/codecKit.js";
import * as t from "io-ts";
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { isLeft } from "fp-ts/lib/Either.js";
import { decodeExperiment, ExperimentCodec } from "../dsl/codecs.js";
import { intAtLeast, integer, struct, withDefault } from "../util/codecKit.js";
import { taskName, type Experiment } from "../dsl/experiment.js";
import { miniVtabTasks } from "../dsl/miniVtab.js";
import { BadInput } from "../train/errors.js";

/** Values to try per JSON path of the experiment (`optimizer.lr`, `method.losses[0].weight`): every combination runs. */
const GridCodec = t.record(t.string, t.array(t.unknown));

const MethodEntryCodec = struct("method entry", {
  /** The method as JSON, or a path to a method (or experiment) file relative to the sweep file. */
  method: t.unknown,
  grid: withDefault(GridCodec, {}),
  /** Explicit points (a list instead of, or times, the grid): each an object of path → value. */
  points: withDefault(t.array(t.record(t.string, t.unknown)), [{}]),
  /** Fields of the experiment this method runs with instead of the template's (full fine-tuning's smaller lr); not a swept parameter. */
  overrides: withDefault(t.UnknownRecord, {}),
});

export const SweepCodec = struct("sweep", {
  name: withDefault(t.string, "sweep"),
  /** Every field of an experiment but `data`, `method` and `seed`, which the sweep fills. */
  experiment: t.UnknownRecord,
  methods: t.record(t.string, MethodEntryCodec),
  tasks: t.array(t.unknown),
  seeds: withDefault(t.array(integer), [0]),
  /** Applied to every method (a method's own grid wins on the same path). */
  grid: withDefault(GridCodec, {}),
  workers: withDefault(intAtLeast(1), 2),
});
export type Sweep = t.TypeOf<typeof SweepCodec>;

/** One run of a sweep: a complete experiment and where it came from. */
export interface Job {
  /** Hash of the method's key and the encoded experiment: the same method key and experiment is the same job in every sweep. */
  readonly id: string;
  /** `method[params]__task__sSeed`, readable and unique within the sweep. */
  readonly name: string;
  readonly method: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly task: string;
  readonly group: string;
  readonly seed: number;
  readonly experiment: Experiment;
}

/** A job without its experiment: what a row and a script manifest record about it. */
export type JobInfo = Omit<Job, "experiment">;

const pathParts = (path: string): (string | number)[] =>
  path
    .split(/\.|\[(\d+)\]/)
    .filter((p) => p !== undefined && p !== "")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));

/** Set `path` inside a JSON value; its parent must exist (a typo is an error, not a new field). */
const setPath = (root: Record<string, unknown>, path: string, value: unknown, where: string): void => {
  const parts = pathParts(path);
  let at: unknown = root;
  for (const p of parts.slice(0, -1)) {
    at = (at as Record<string | number, unknown> | undefined)?.[p];
    if (typeof at !== "object" || at === null) throw new BadInput({ lines: [`${where}: ${path} does not exist in the experiment (no ${JSON.stringify(p)})`] });
  }
  (at as Record<string | number, unknown>)[parts.at(-1)!] = value;
};

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u);

/** `over` on top of `base`, objects merged key by key (arrays and values replaced). */
const merged = (base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> =>
  Object.fromEntries(
    [...new Set([...Object.keys(base), ...Object.keys(over)])].map((k) => {
      const [a, b] = [base[k], over[k]];
      return [k, b === undefined ? a : isObject(a) && isObject(b) ? merged(a, b) : b];
    }),
  );

const cartesian = (grid: Readonly<Record<string, readonly unknown[]>>): Record<string, unknown>[] =>
  Object.entries(grid).reduce<Record<string, unknown>[]>((points, [path, values]) => points.flatMap((p) => values.map((v) => ({ ...p, [path]: v }))), [{}]);

/** `.rank-8.lr-0.001`: safe in file names, shells and Slurm (no brackets, no `=`). */
const label = (params: Readonly<Record<string, unknown>>): string =>
  Object.entries(params)
    .map(([k, v]) => `.${pathParts(k).at(-1)}-${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("");

export const decodeSweep = (u: unknown, source: string): Sweep => {
  const r = decodeWith(SweepCodec, u);
  if (isLeft(r)) throw new BadInput({ lines: r.left.map((l) => `${source}: ${l}`) });
  return r.right;
};

/**
 * Every job of a sweep: methods × their parameter points × tasks × seeds, each decoded as an
 * experiment; ordered seed by seed, task by task, so a sweep stopped early holds every method
 * on the tasks it reached.
 */
export const expandSweep = (sweep: Sweep, baseDir: string, readJson: (path: string) => unknown): Job[] =>
  distinct(
    jobsOf(sweep, baseDir, readJson)
      .sort((a, b) => sweep.seeds.indexOf(a.seed) - sweep.seeds.indexOf(b.seed) || a.taskIndex - b.taskIndex)
      .map(({ taskIndex: _, ...job }) => job),
  );

const source = (j: Job) => `methods.${j.method}${Object.keys(j.params).length > 0 ? ` ${JSON.stringify(j.params)}` : ""}`;

/**
 * The jobs, refused when two share a run directory (names keep only letters, digits, `_`, `.`
 * and `-`, so `a b` and `a_b` meet) or one method key makes the same experiment twice (a
 * repeated grid value or point): either would run one job where the sweep lists two.
 */
const distinct = (jobs: Job[]): Job[] => {
  const byName = new Map<string, Job>();
  const byId = new Map<string, Job>();
  for (const j of jobs) {
    const sameName = byName.get(j.name);
    if (sameName !== undefined)
      throw new BadInput({
        lines: [`${source(sameName)} and ${source(j)} are both the job ${j.name}: rename one (a job's name keeps only A-Z a-z 0-9 _ . -)`],
      });
    const sameId = byId.get(j.id);
    if (sameId !== undefined)
      throw new BadInput({ lines: [`${source(sameId)} and ${source(j)} are the same experiment (${sameId.name} and ${j.name}): drop one`] });
    byName.set(j.name, j);
    byId.set(j.id, j);
  }
  return jobs;
};

const jobsOf = (sweep: Sweep, baseDir: string, readJson: (path: string) => unknown): (Job & { readonly taskIndex: number })[] =>
  Object.entries(sweep.methods).flatMap(([key, entry]) => {
    const where = `methods.${key}`;
    const raw = typeof entry.method === "string" ? readJson(resolve(baseDir, entry.method)) : entry.method;
    const method = typeof raw === "object" && raw !== null && "method" in raw ? (raw as { method: unknown }).method : raw;
    const points = entry.points.flatMap((p) => cartesian({ ...sweep.grid, ...entry.grid }).map((g) => ({ ...g, ...p })));
    return points.flatMap((params) =>
      sweep.tasks.flatMap((task, ti) =>
        sweep.seeds.map((seed): Job & { readonly taskIndex: number } => {
          const at = `${where} × tasks[${ti}] × seed ${seed}`;
          const decode = (json: unknown) => {
            const d = decodeExperiment(json);
            if (isLeft(d)) throw new BadInput({ lines: d.left.map((l) => `${at}: ${l}`) });
            return d.right;
          };
          // Parameters are set on the experiment with its defaults written out, so every field (optimizer.weightDecay) has a path.
          // A fresh copy per job: decoding and encoding share nested objects, and the next point's parameters must not leak into this job.
          const json = structuredClone(
            ExperimentCodec.encode(decode({ ...merged(sweep.experiment, entry.overrides), data: task, method, seed })),
          ) as unknown as Record<string, unknown>;
          for (const [path, value] of Object.entries(params)) setPath(json, path, value, where);
          const decoded = decode(json);
          // A job file lives elsewhere than the sweep: a backbone path is made absolute.
          const weights = decoded.backbone.weights;
          const backbone = { ...decoded.backbone, weights: weights === "default" ? weights : resolve(baseDir, weights) };
          // So is an image source's root.
          const folder =
            decoded.data._tag === "ImageFolder" || decoded.data._tag === "ImageList"
              ? { data: { ...decoded.data, root: resolve(baseDir, decoded.data.root) } }
              : {};
          const experiment = { ...decoded, ...folder, backbone, name: `${sweep.name}: ${key}${label(params)} on ${taskName(decoded.data)}, seed ${seed}` };
          // The method's key is part of the job: two keys holding the same experiment are two jobs, two rows.
          const id = createHash("sha1")
            .update(JSON.stringify([key, ExperimentCodec.encode({ ...experiment, name: "" })]))
            .digest("hex")
            .slice(0, 12);
          const data = experiment.data;
          const group = data._tag === "MiniVtab" ? miniVtabTasks[data.name].group : data._tag === "Mnist" ? "mnist" : "images";
          return {
            id,
            name: `${key}${label(params)}__${taskName(data)}__s${seed}`.replace(/[^A-Za-z0-9_.-]/g, "_"),
            method: key,
            params,
            task: taskName(data),
            group,
            seed,
            experiment,
            taskIndex: ti,
          };
        }),
      ),
    );
  });

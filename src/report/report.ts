import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Row } from "../sweep/results.js";
import type { RunResult } from "../train/runResult.js";
import { chart, type Series } from "./charts.js";
import { setupOf, type SetupLine } from "./setup.js";
import { stat, summarise, variantOf, type Summary } from "./summary.js";

export interface Figure {
  /** File name under figures/ (the Markdown links it; the HTML inlines it). */
  readonly file: string;
  readonly caption: string;
  readonly svg: string;
}

const pct = (x: number) => (100 * x).toFixed(1);
/** mean ± std over seeds; one seed has no spread, and a cell with fewer seeds than the table's most says how many. */
const cell = (s: { mean: number; std: number; n: number } | undefined, seeds: number) =>
  s === undefined ? "–" : `${pct(s.mean)}${s.n > 1 ? ` ± ${pct(s.std)}` : ""}${s.n < seeds ? ` (n=${s.n})` : ""}`;
const mean = (x: number | null) => (x === null ? "–" : pct(x));

/** The table as header + rows of strings, shared by the Markdown and the HTML. */
export const tableCells = (s: Summary): { header: string[]; rows: string[][] } => {
  const seeds = Math.max(0, ...s.variants.flatMap((v) => [...v.cells.values()].map((c) => c.n)));
  return {
    header: ["method", "trainable", ...s.tasks.map((t) => `${t.task} (${t.group})`), ...s.groups.map((g) => `${g} mean`), "mean of group means"],
    rows: s.variants.map((v) => [
      v.variant,
      `${Math.round(v.trainable).toLocaleString("en-US")} (${v.trainablePercent.toFixed(2)}%)`,
      ...s.tasks.map((t) => cell(v.cells.get(t.task), seeds)),
      ...s.groups.map((g) => mean(v.groupMeans.get(g) ?? null)),
      mean(v.mean),
    ]),
  };
};

/** A file of a row's run directory under `base`; none when the row's directory would lead elsewhere (a results file is data, not paths to follow). */
const runFile = (base: string, r: Row, file: string): string | null => {
  const path = join(base, r.runDir, file);
  return isAbsolute(r.runDir) || r.runDir.split(/[\\/]/).includes("..") || !existsSync(path) ? null : path;
};

const runResult = (base: string, r: Row): RunResult | null => {
  const path = runFile(base, r, "result.json");
  return path === null ? null : (JSON.parse(readFileSync(path, "utf8")) as RunResult);
};

/**
 * A run's DAF map as the HTML inlines it, or null unless it holds only what the heatmap writes
 * (svg, rect, path, text and title elements with their plain attributes): a run directory is
 * anyone's files, and an SVG could carry a script or an event handler into the page.
 */
const heatmapSvg = (text: string): string | null => {
  const tag = /<(\/?)([a-zA-Z]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*(\/?)>/g;
  const attribute = /\s+([a-z-]+)="/g;
  const elements = new Set(["svg", "rect", "path", "text", "title"]);
  const attributes = new Set([
    "xmlns",
    "width",
    "height",
    "viewBox",
    "x",
    "y",
    "d",
    "fill",
    "stroke",
    "stroke-width",
    "font-family",
    "font-size",
    "font-weight",
    "text-anchor",
  ]);
  let at = 0;
  for (const m of text.matchAll(tag)) {
    if (/[<>]/.test(text.slice(at, m.index))) return null;
    if (!elements.has(m[2]!) || [...m[3]!.matchAll(attribute)].some((a) => !attributes.has(a[1]!))) return null;
    at = m.index + m[0].length;
  }
  return /[<>]/.test(text.slice(at)) ? null : text;
};

/** Mean validation accuracy per epoch of each variant, over its tasks and seeds; none for runs without a validation set. */
const curves = (ok: readonly Row[]): Figure[] => {
  const series: Series[] = [...new Set(ok.map(variantOf))].flatMap((name) => {
    const mine = ok.filter((r) => variantOf(r) === name && r.curve);
    const epochs = Math.max(0, ...mine.map((r) => r.curve!.length));
    const points = Array.from({ length: epochs }, (_, e) => {
      const values = mine.flatMap((r) => {
        const v = r.curve![e]?.valAccuracy;
        return typeof v === "number" && Number.isFinite(v) ? [v] : [];
      });
      return values.length === 0 ? [] : [[e + 1, 100 * stat(values).mean] as const];
    }).flat();
    return points.length === 0 ? [] : [{ name, points }];
  });
  if (series.length === 0) return [];
  return [
    {
      file: "training-curves.svg",
      caption: "Validation accuracy after each epoch, mean over each method's tasks and seeds.",
      svg: chart(series, { title: "Training curves", x: "epoch", y: "val accuracy (%)", kind: "line" }),
    },
  ];
};

/** Accuracy against each swept parameter (BAFT's λ grid and the like): mean over seeds, per task and overall. */
const sensitivity = (ok: readonly Row[]): Figure[] =>
  [...new Set(ok.map((r) => r.method))].flatMap((method) => {
    const mine = ok.filter((r) => r.method === method);
    const paths = [...new Set(mine.flatMap((r) => Object.keys(r.params)))].filter((p) => new Set(mine.map((r) => JSON.stringify(r.params[p]))).size > 1);
    return paths.flatMap((path) => {
      const numeric = mine.filter((r) => typeof r.params[path] === "number");
      if (numeric.length === 0) return [];
      const values = [...new Set(numeric.map((r) => r.params[path] as number))];
      const at = (rows: readonly Row[]) =>
        values.flatMap((v) => {
          const xs = rows.filter((r) => r.params[path] === v).map((r) => 100 * r.testAccuracy!);
          return xs.length === 0 ? [] : [[v, stat(xs).mean] as const];
        });
      const tasks = [...new Set(numeric.map((r) => r.task))];
      const series = [{ name: "mean over tasks", points: at(numeric) }, ...tasks.map((t) => ({ name: t, points: at(numeric.filter((r) => r.task === t)) }))];
      const logX = values.every((v) => v > 0) && Math.max(...values) / Math.min(...values) >= 10;
      const slug = `${method}-${path}`.replace(/[^A-Za-z0-9]+/g, "-");
      return [
        {
          file: `sensitivity-${slug}.svg`,
          caption: `${method}: test accuracy against ${path} (mean over seeds).`,
          svg: chart(series, { title: `${method}: sensitivity to ${path}`, x: path, y: "test accuracy (%)", kind: "line", logX }),
        },
      ];
    });
  });

/** RIFT's Sim (linear CKA to the pretrained features) against accuracy, one dot per job. */
const simVsAccuracy = (ok: readonly Row[]): Figure[] => {
  const withSim = ok.filter((r) => r.sim !== undefined);
  if (withSim.length === 0) return [];
  const series = [...new Set(withSim.map(variantOf))].map((name) => ({
    name,
    points: withSim.filter((r) => variantOf(r) === name).map((r) => [r.sim!, 100 * r.testAccuracy!] as const),
  }));
  return [
    {
      file: "sim-vs-accuracy.svg",
      caption:
        "Representation kept (Sim, linear CKA to the pretrained head-input features on held-out images) against test accuracy, one dot per job: further right keeps more of the pretrained features.",
      svg: chart(series, { title: "Sim vs accuracy", x: "Sim (linear CKA to pretrained)", y: "test accuracy (%)", kind: "scatter" }),
    },
  ];
};

/** DAF's activation map of one run per variant that reconfigured (its configurations.svg, if it holds only what the heatmap writes). */
const dafMaps = (base: string, ok: readonly Row[]): Figure[] =>
  [...new Set(ok.filter((r) => r.reconfigureSeconds !== undefined).map(variantOf))].flatMap((name) => {
    for (const r of ok.filter((x) => variantOf(x) === name)) {
      const path = runFile(base, r, "configurations.svg");
      const svg = path === null ? null : heatmapSvg(readFileSync(path, "utf8"));
      if (svg === null) continue;
      return [
        { file: `daf-${name.replace(/[^A-Za-z0-9]+/g, "-")}.svg`, caption: `${name}: which units trained in each epoch (${r.task}, seed ${r.seed}).`, svg },
      ];
    }
    return [];
  });

/** S²FT: ΔŴ's spectral energy per frequency band before and after the permutation, averaged over sites, one run per variant. */
const spectra = (base: string, ok: readonly Row[]): Figure[] =>
  [...new Set(ok.map(variantOf))].flatMap((name) => {
    for (const r of ok.filter((x) => variantOf(x) === name)) {
      const sites = (runResult(base, r)?.preludes ?? []).flatMap((p) => ("sites" in p ? p.sites : [])).flatMap((s) => (s.spectrum ? [s.spectrum] : []));
      if (sites.length === 0) continue;
      const band = (k: "identity" | "permuted") => sites[0]![k].map((_, b) => [b + 0.5, 100 * stat(sites.map((s) => s[k][b]!)).mean] as const);
      const series = [
        { name: "stored order", points: band("identity") },
        { name: "after the tour permutation", points: band("permuted") },
      ];
      return [
        {
          file: `spectrum-${name.replace(/[^A-Za-z0-9]+/g, "-")}.svg`,
          caption: `${name}: share of the gradient pre-estimate's spectral energy per radial frequency band (band k covers f ∈ [k/16, (k+1)/16), f = 0.5 is Nyquist), before and after its permutation (${r.task}, seed ${r.seed}, mean over ${sites.length} sites).`,
          svg: chart(series, { title: `${name}: power spectrum of ΔŴ`, x: "frequency band", y: "energy share (%)", kind: "line" }),
        },
      ];
    }
    return [];
  });

/** Figures whose file names (from names that differ only in punctuation, `a b` and `a-b`) would overwrite each other get `-2`, `-3`… */
const distinctFiles = (figures: readonly Figure[]): Figure[] => {
  const taken = new Set<string>();
  return figures.map((f) => {
    let file = f.file;
    for (let i = 2; taken.has(file); i++) file = f.file.replace(/\.svg$/, `-${i}.svg`);
    taken.add(file);
    return { ...f, file };
  });
};

export interface Report {
  readonly summary: Summary;
  readonly setup: readonly SetupLine[];
  readonly figures: readonly Figure[];
  readonly rows: number;
}

/** Everything a report shows, from the rows of a results file whose run directories are under `base`. */
export const buildReport = (rows: readonly Row[], base: string): Report => {
  const summary = summarise(rows);
  const latest = [...new Map(rows.map((r) => [r.id, r])).values()];
  const ok = latest.filter((r) => r.status === "ok");
  return {
    summary,
    setup: setupOf(ok),
    rows: latest.length,
    figures: distinctFiles([...curves(ok), ...sensitivity(ok), ...simVsAccuracy(ok), ...dafMaps(base, ok), ...spectra(base, ok)]),
  };
};

import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { summarise } from "../../src/report/summary.js";
import { buildReport, tableCells } from "../../src/report/report.js";
import { chart } from "../../src/report/charts.js";
import { markdown } from "../../src/report/render.js";
import type { Row } from "../../src/sweep/results.js";
import { fixtureRows, hostileNames, hostileRows } from "./fixtureRows.js";

const dir = mkdtempSync(join(tmpdir(), "peft-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("report", () => {
  const rows = fixtureRows(dir);

  it("averages seeds per task, tasks per group, and groups for the overall mean", () => {
    const s = summarise(rows);
    const lora = s.variants.find((v) => v.variant === "lora")!;
    // digits: 0.80, 0.81 → 0.805 ± 0.00707; noisy 0.825; count 0.845 (the failed seed is left out).
    expect(lora.cells.get("digits")!.mean).toBeCloseTo(0.805, 12);
    expect(lora.cells.get("digits")!.std).toBeCloseTo(Math.SQRT1_2 * 0.01, 12);
    expect(lora.cells.get("count")!.n).toBe(2);
    expect(lora.mean).toBeCloseTo((0.805 + 0.825 + 0.845) / 3, 12);
    expect(s.failed.map((f) => f.seed)).toEqual([2]);
    expect(s.tasks.map((t) => t.group)).toEqual(["natural", "specialized", "structured"]);
    expect(s.variants.map((v) => v.variant)).toContain("lora-baft weight=0.01");
  });

  it("leaves a group mean out when a task of the group has no result, and the latest row of a job wins", () => {
    const partial: Row[] = rows.filter((r) => !(r.method === "lora" && r.task === "noisy"));
    expect(summarise(partial).variants.find((v) => v.variant === "lora")!.mean).toBeNull();
    const rerun = { ...rows[0]!, testAccuracy: 0.2 };
    expect(
      summarise([...rows, rerun])
        .variants.find((v) => v.variant === "lora")!
        .cells.get("digits")!.mean,
    ).toBeCloseTo((0.2 + 0.81) / 2, 12);
  });

  it("shows no spread for one seed and marks a cell with fewer seeds than the others", () => {
    const oneDigitsSeed = rows.filter((r) => !(r.method === "lora" && r.task === "digits" && r.testAccuracy === 0.81));
    const lora = tableCells(summarise(oneDigitsSeed)).rows.find((c) => c[0] === "lora")!;
    expect(lora.slice(2, 5)).toEqual(["80.0 (n=1)", "82.5 ± 0.7", "84.5 ± 0.7"]);
  });

  it("draws every kind of figure the rows allow and writes one table for Markdown and HTML", () => {
    const r = buildReport(rows, dir);
    expect(r.figures.map((f) => f.file.split("-")[0])).toEqual(["training", "sensitivity", "sim", "daf", "spectrum"]);
    expect(r.figures.every((f) => f.svg.startsWith("<svg"))).toBe(true);
    const { header, rows: cells } = tableCells(r.summary);
    expect(header.at(-1)).toBe("mean of group means");
    expect(cells.find((c) => c[0] === "lora")!.at(-1)).toBe("82.5");
    expect(markdown(r, "t")).toContain("| lora | 1,000 (0.50%) | 80.5 ± 0.7 | 82.5 ± 0.7 | 84.5 ± 0.7 | 80.5 | 82.5 | 84.5 | 82.5 |");
  });

  it("inlines a DAF map only when it holds what the heatmap writes, and reads nothing outside the results' folder", () => {
    const daf = rows.filter((r) => r.method === "daf" && r.status === "ok");
    const maps = (rs: Row[]) => buildReport(rs, dir).figures.filter((f) => f.file.startsWith("daf-"));
    const written = maps(daf);
    expect(written).toHaveLength(1);
    expect(written[0]!.svg).toBe(readFileSync(join(dir, daf[0]!.runDir, "configurations.svg"), "utf8"));
    const own = readFileSync(join(dir, daf[0]!.runDir, "configurations.svg"), "utf8");
    for (const [name, svg] of [
      ["script", own.replace("</svg>", "<script>document.title='pwned'</script></svg>")],
      ["handler", own.replace("<svg ", '<svg onload="alert(1)" ')],
      ["foreign object", own.replace("</svg>", '<foreignObject width="9" height="9"><img src=x></foreignObject></svg>')],
      ["link", own.replace("<rect ", '<rect href="javascript:alert(1)" ')],
      ["stray markup", own.replace("</svg>", "<!-- <img src=x onerror=alert(1)> --></svg>")],
    ] as const) {
      const hostile = join(dir, `hostile-${name.replace(/ /g, "-")}`);
      mkdirSync(hostile, { recursive: true });
      writeFileSync(join(hostile, "configurations.svg"), svg);
      expect(maps(daf.map((r) => ({ ...r, runDir: hostile.slice(dir.length + 1) }))), name).toEqual([]);
    }
    // A row whose run directory leads out of the results' folder is read as having no files.
    const outside = mkdtempSync(join(tmpdir(), "peft-outside-"));
    writeFileSync(join(outside, "configurations.svg"), own);
    expect(maps(daf.map((r) => ({ ...r, runDir: relative(dir, outside) })))).toEqual([]);
    expect(maps(daf.map((r) => ({ ...r, runDir: outside })))).toEqual([]);
    rmSync(outside, { recursive: true });
  });

  it("gives figures of names that differ only in punctuation their own files", () => {
    const sweepRows = rows.filter((r) => r.method === "lora-baft");
    const figures = buildReport(
      [...sweepRows.map((r) => ({ ...r, method: "a b", id: `1${r.id}` })), ...sweepRows.map((r) => ({ ...r, method: "a-b", id: `2${r.id}` }))],
      dir,
    ).figures;
    const files = figures.map((f) => f.file);
    expect(files.filter((f) => f.startsWith("sensitivity-"))).toHaveLength(2);
    expect(new Set(files).size).toBe(files.length);
  });

  it("draws training curves from the epochs that have a validation accuracy, and none for runs without a validation set", () => {
    const noVal = (r: Row, from: number): Row => ({ ...r, curve: r.curve!.map((c) => (c.epoch >= from ? { ...c, valAccuracy: null } : c)) });
    const curves = (rs: Row[]) => buildReport(rs, dir).figures.find((f) => f.file === "training-curves.svg");
    expect(curves(rows.map((r) => noVal(r, 0)))).toBeUndefined();
    const partly = curves(rows.map((r) => noVal(r, 1)))!.svg;
    expect(partly).not.toMatch(/NaN/);
    expect(partly).toMatch(/<polyline|<circle|<path/);
  });
});

describe("what the report says", () => {
  const rows = fixtureRows(dir);

  it("states the backbone and the recipe the jobs ran: once where all agree, with the methods where they differ", () => {
    const md = markdown(buildReport(rows, dir), "t");
    const others = "lora, lora-baft weight=0.001, lora-baft weight=0.01, lora-baft weight=0.1, s2ft";
    for (const line of [
      "- **Backbone**: the embedded demo ViT (weights default): 28×28 input, 1 channel, patch 4, width 64, depth 4, 4 heads; head reset to zeros for each task",
      "- **Data**: 800 train and 200 val images, 2000 test images; 28×28 grey images",
      `- **Optimizer**: AdamW, lr 0.005, weight decay 0.0001, β₁ 0.9, β₂ 0.999, ε 1e-8 (${others}); AdamW, lr 0.001, weight decay 0.0001, β₁ 0.9, β₂ 0.999, ε 1e-8 (daf)`,
      "- **Schedule**: 5 epochs of batches of 32, warm-up 1 epoch, then cosine decay to 0",
      "- **Regularisation**: label smoothing 0, drop path 0, no augmentation",
    ])
      expect(md).toContain(line);
    // Rows written before rows recorded their experiment say so rather than guess.
    const old = rows.map(({ experiment: _, backbone: __, ...r }) => r);
    expect(markdown(buildReport(old, dir), "t")).toContain("- **Backbone**: not recorded (rows written before peft recorded the experiment in them)");
  });

  it("names in its captions and titles only the methods the sweep had", () => {
    // The same runs under names of no known method.
    const renamed = rows.map((r) => ({ ...r, method: `m-${["lora", "lora-baft", "daf", "s2ft"].indexOf(r.method)}` }));
    const r = buildReport(renamed, dir);
    expect(r.figures).toHaveLength(5);
    for (const f of r.figures) {
      const titles = [...f.svg.matchAll(/<text[^>]*font-weight="bold"[^>]*>([^<]*)/g)].map((m) => m[1]!);
      expect(`${f.caption} ${titles.join(" ")}`, f.file).not.toMatch(/lora|baft|rift|s²ft|s2ft|daf|fourier|full fine-tuning/i);
    }
  });

  it("draws a chart at a size three of which fit across a 1280-pixel page, its legend inside it however many series", () => {
    const series = Array.from({ length: 20 }, (_, i) => ({ name: `variant number ${i} with a long name`, points: [[1, i] as const, [2, i + 1] as const] }));
    const svg = chart(series, { title: "t", x: "x", y: "y", kind: "line" });
    const width = Number(/width="(\d+)"/.exec(svg)![1]);
    const height = Number(/height="(\d+)"/.exec(svg)![1]);
    expect(width).toBeLessThanOrEqual(1280 / 3 - 24);
    expect(height).toBeLessThan(width * 1.4);
    const ys = [...svg.matchAll(/<(?:rect|text) x="([\d.]+)" y="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    expect(ys.length).toBeGreaterThan(40);
    for (const [x, y] of ys) {
      expect(y).toBeLessThanOrEqual(height);
      expect(x).toBeLessThan(width);
    }
  });

  // GitHub's own Markdown renderer (Debian's cmark-gfm), with raw HTML passed through as most viewers do.
  const cmark = ["/usr/bin/cmark-gfm"].find(existsSync);
  it.skipIf(cmark === undefined)("writes hostile names into report.md as text: rendered, no markup of theirs appears and every cell holds its name", () => {
    const hostile = hostileRows();
    const report = buildReport(hostile, dir);
    const rendered = spawnSync(cmark!, ["--unsafe", "-e", "table"], { input: markdown(report, hostileNames.sweep), encoding: "utf8" });
    expect(rendered.status, rendered.stderr).toBe(0);
    const html = rendered.stdout;
    const tags = [...html.matchAll(/<([a-z][a-z0-9]*)\b/g)].map((m) => m[1]!);
    expect(new Set(tags)).toEqual(new Set(["h1", "h2", "p", "ul", "li", "strong", "em", "table", "thead", "tbody", "tr", "th", "td", "img"]));
    expect(tags.filter((t) => t === "h1")).toHaveLength(1);
    expect(tags.filter((t) => t === "strong")).toHaveLength(report.setup.length);
    expect([...html.matchAll(/<img src="([^"]*)"/g)].map((m) => m[1])).toEqual(report.figures.map((f) => `figures/${f.file}`));
    const text = (s: string) =>
      s
        .replace(/&lt;/g, "<")
        .replace(/&gt;/g, ">")
        .replace(/&quot;/g, '"')
        .replace(/&amp;/g, "&");
    const body = html.split("<tbody>")[1]!.split("</tbody>")[0]!;
    const cells = [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => text(c[1]!)));
    expect(cells.map((c) => c[0])).toEqual(report.summary.variants.map((v) => v.variant.replace(/\n/g, " ")));
    expect(new Set(cells.map((c) => c.length))).toEqual(new Set([tableCells(report.summary).header.length]));
    const header = [...html.matchAll(/<th(?: [^>]*)?>([\s\S]*?)<\/th>/g)].map((m) => text(m[1]!));
    expect(header).toEqual(tableCells(report.summary).header.map((h) => h.replace(/\n/g, " ")));
    expect(header[2]).toBe(`${hostileNames.task.replace("\n", " ")} (natural)`);
  });
});

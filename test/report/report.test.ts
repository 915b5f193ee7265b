import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { summarise } from "../../src/report/summary.js";
import { buildReport, tableCells } from "../../src/report/report.js";
import { markdown } from "../../src/report/render.js";
import type { Row } from "../../src/sweep/results.js";
import { fixtureRows } from "./fixtureRows.js";

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
});

import { afterAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fixtureRows, hostileNames, hostileRows } from "../report/fixtureRows.js";

/* `peft report` as a user runs it, and the page as Chromium renders it (headless, Debian's `chromium`). */
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(root, "dist/src/cli/main.js");
const work = mkdtempSync(join(tmpdir(), "peft-report-cli-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const artifacts = join(root, "test-artifacts");

const chromium = process.env.CHROMIUM ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find(existsSync);
const headless = (...args: string[]) =>
  spawnSync(chromium!, ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", ...args], { encoding: "utf8" });

describe("peft report", () => {
  const results = join(work, "results.jsonl");
  writeFileSync(
    results,
    fixtureRows(work)
      .map((r) => JSON.stringify(r))
      .join("\n") + "\n",
  );
  const out = join(work, "report");

  it("writes a self-contained HTML page, a Markdown table and one SVG per figure", () => {
    const r = spawnSync(process.execPath, [bin, "report", results, "--out", out], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const page = readFileSync(join(out, "report.html"), "utf8");
    expect(page).not.toMatch(/<(script|link|img)\b/);
    expect(page.match(/<figure /g)).toHaveLength(5);
    expect(readFileSync(join(out, "report.md"), "utf8")).toMatch(/!\[.*\]\(figures\/training-curves\.svg\)/);
    const empty = join(work, "empty.jsonl");
    writeFileSync(empty, "");
    const bad = spawnSync(process.execPath, [bin, "report", empty, "--out", join(work, "never")], { encoding: "utf8" });
    expect([bad.status, bad.stderr.includes("no result rows")]).toEqual([2, true]);
  });

  it.skipIf(chromium === undefined)(
    "renders in headless Chromium with every figure drawn, three charts to a row on a laptop's screen (screenshot in test-artifacts/)",
    () => {
      // A copy of the page with a probe that measures every figure's drawn SVG once laid out.
      const probe = join(work, "probe.html");
      writeFileSync(
        probe,
        readFileSync(join(out, "report.html"), "utf8").replace(
          "</body>",
          `<script>
document.title = JSON.stringify([...document.querySelectorAll("figure")].map((f) => {
  const svg = f.querySelector("svg"); const box = svg.getBBox(); const rect = svg.getBoundingClientRect(); const at = f.getBoundingClientRect();
  return { file: f.dataset.file, width: box.width, height: box.height, shown: rect.width, drawn: svg.width.baseVal.value, marks: svg.querySelectorAll("circle, path, rect").length,
    figure: { top: at.top, width: at.width, height: at.height } };
}));
</script></body>`,
        ),
      );
      const dom = headless("--window-size=1280,900", "--dump-dom", `file://${probe}`);
      expect(dom.status, dom.stderr).toBe(0);
      const figures = JSON.parse(/<title>(.*?)<\/title>/s.exec(dom.stdout)![1]!.replace(/&quot;/g, '"')) as {
        file: string;
        width: number;
        height: number;
        shown: number;
        drawn: number;
        marks: number;
        figure: { top: number; width: number; height: number };
      }[];
      expect(figures).toHaveLength(5);
      for (const f of figures) {
        expect(f.width, f.file).toBeGreaterThan(100);
        expect(f.height, f.file).toBeGreaterThan(50);
        expect(f.shown, f.file).toBeGreaterThan(100);
        expect(f.marks, f.file).toBeGreaterThan(2);
        // Drawn at its own size (its text at the size it was set in), in a box of at most a third of the width and 60% of the height of the window.
        expect(f.shown, f.file).toBe(f.drawn);
        expect(f.figure.height, f.file).toBeLessThanOrEqual(0.6 * 900);
      }
      const charts = figures.filter((f) => !f.file.startsWith("daf-"));
      for (const f of charts) expect(f.figure.width, f.file).toBeLessThanOrEqual(1280 / 3);
      expect(new Set(charts.slice(0, 3).map((f) => f.figure.top)).size).toBe(1);
      mkdirSync(artifacts, { recursive: true });
      const shot = join(artifacts, "report.png");
      const r = headless("--window-size=1400,2400", `--screenshot=${shot}`, `file://${join(out, "report.html")}`);
      expect(r.status, r.stderr).toBe(0);
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe("PNG");
    },
  );

  it.skipIf(chromium === undefined)("shows hostile names as text in report.html: no element, attribute or script of theirs in the page Chromium builds", () => {
    const hostile = join(work, "hostile.jsonl");
    writeFileSync(
      hostile,
      hostileRows()
        .map((r) => `${JSON.stringify(r)}\n`)
        .join(""),
    );
    const made = spawnSync(process.execPath, [bin, "report", hostile, "--out", join(work, "hostile")], { encoding: "utf8" });
    expect(made.status, made.stderr).toBe(0);
    const dom = headless("--dump-dom", `file://${join(work, "hostile", "report.html")}`);
    expect(dom.status, dom.stderr).toBe(0);
    const tags = [...dom.stdout.matchAll(/<([a-z][a-z0-9]*)\b([^>]*)>/g)];
    expect(tags.filter((t) => ["script", "img", "b", "a", "code"].includes(t[1]!)).map((t) => t[0])).toEqual([]);
    // Chromium writes every attribute as name="value", a quote inside the value as &quot;.
    const attributes = tags.flatMap((t) => [...t[2]!.matchAll(/\s([^\s="]+)="[^"]*"/g)].map((a) => a[1]!));
    expect(attributes.filter((a) => a.startsWith("on"))).toEqual([]);
    expect(dom.stdout).not.toContain("<title>pwned</title>");
    // Each name is on the page as written (the DOM escapes text as it serialises it).
    const asText = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    for (const name of [hostileNames.img, hostileNames.link, hostileNames.error]) expect(dom.stdout).toContain(asText(name));
  });
});

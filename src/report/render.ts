import type { Report } from "./report.js";
import { tableCells } from "./report.js";
import { escapeHtml, escapeMarkdown } from "../util/escape.js";
import type { SetupLine } from "./setup.js";

const convention =
  "Cells: test accuracy (%), mean ± sample std over seeds; trainable parameters are the mean over tasks (the head grows with a task's class count); (n=k) marks a cell with fewer seeds than the table's most. Group means average the per-task means of a group; the last column is the mean of the group means (VTAB's convention), shown only when every group has all its tasks.";

/** A setup line's values, each with whom it applies to when they differ. */
const setupText = (l: SetupLine, escape: (s: string) => string): string =>
  l.values.map((v) => `${escape(v.text)}${v.where === null ? "" : ` (${escape(v.where)})`}`).join("; ");

/** The report as Markdown: the setup, the table, then each figure as a linked SVG under figures/. Every name is escaped: Markdown passes HTML through. */
export const markdown = (r: Report, title: string): string => {
  const { header, rows } = tableCells(r.summary);
  const line = (cells: readonly string[]) => `| ${cells.map(escapeMarkdown).join(" | ")} |`;
  return [
    `# ${escapeMarkdown(title)}`,
    "",
    `${r.rows} jobs, ${r.summary.failed.length} failed. ${convention}`,
    "",
    ...(r.setup.length > 0 ? [...r.setup.map((l) => `- **${l.label}**: ${setupText(l, escapeMarkdown)}`), ""] : []),
    line(header),
    `|${header.map(() => " --- |").join("")}`,
    ...rows.map(line),
    "",
    ...r.figures.flatMap((f) => [`![${escapeMarkdown(f.caption)}](figures/${f.file})`, "", `*${escapeMarkdown(f.caption)}*`, ""]),
    ...(r.summary.failed.length > 0
      ? ["## Failed jobs", "", ...r.summary.failed.map((f) => `- ${escapeMarkdown(f.name)}: ${escapeMarkdown((f.error ?? "").split("\n")[0]!)}`), ""]
      : []),
  ].join("\n");
};

/**
 * The report as one self-contained HTML page: the setup, the table and every figure inline. Figures
 * are drawn at their own size (a chart is 380 px wide, three to a row on a laptop's screen); one
 * taller than most of a screen (a large model's DAF map) scrolls in its own box.
 */
export const html = (r: Report, title: string): string => {
  const { header, rows } = tableCells(r.summary);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
.setup { font-size: 14px; max-width: 60em; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5em; align-items: flex-start; margin-top: 1.5em; }
figure { margin: 0; width: min-content; max-width: 100%; }
figure .plot { max-height: 30em; overflow: auto; }
figure svg { display: block; }
figcaption { font-size: 12px; color: #555; margin-top: 0.3em; }
</style></head><body>
<h1>${escapeHtml(title)}</h1>
<p>${r.rows} jobs, ${r.summary.failed.length} failed. ${escapeHtml(convention)}</p>
${r.setup.length > 0 ? `<ul class="setup">${r.setup.map((l) => `<li><strong>${l.label}</strong>: ${setupText(l, escapeHtml)}</li>`).join("")}</ul>` : ""}
<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join("")}</tr>`).join("\n")}</tbody></table>
<div class="figures">
${r.figures.map((f) => `<figure data-file="${escapeHtml(f.file)}"><div class="plot">${f.svg}</div><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`).join("\n")}
</div>
${r.summary.failed.length > 0 ? `<h2>Failed jobs</h2><ul>${r.summary.failed.map((f) => `<li>${escapeHtml(f.name)}: ${escapeHtml((f.error ?? "").split("\n")[0]!)}</li>`).join("")}</ul>` : ""}
</body></html>
`;
};

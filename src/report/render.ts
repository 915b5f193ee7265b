import type { Report } from "./report.js";
import { tableCells } from "./report.js";

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

const convention =
  "Cells: test accuracy (%), mean ± sample std over seeds; trainable parameters are the mean over tasks (the head grows with a task's class count); (n=k) marks a cell with fewer seeds than the table's most. Group means average the per-task means of a group; the last column is the mean of the group means (VTAB's convention), shown only when every group has all its tasks.";

/** The report as Markdown: the table, then each figure as a linked SVG under figures/. */
export const markdown = (r: Report, title: string): string => {
  const { header, rows } = tableCells(r.summary);
  const line = (cells: readonly string[]) => `| ${cells.map((c) => c.replace(/\|/g, "\\|")).join(" | ")} |`;
  return [
    `# ${title}`,
    "",
    `${r.rows} jobs, ${r.summary.failed.length} failed. ${convention}`,
    "",
    line(header),
    line(header.map(() => "---")),
    ...rows.map(line),
    "",
    ...r.figures.flatMap((f) => [`![${f.caption}](figures/${f.file})`, "", `*${f.caption}*`, ""]),
    ...(r.summary.failed.length > 0 ? ["## Failed jobs", "", ...r.summary.failed.map((f) => `- ${f.name}: ${(f.error ?? "").split("\n")[0]}`), ""] : []),
  ].join("\n");
};

/** The report as one self-contained HTML page: the table and every figure inline. */
export const html = (r: Report, title: string): string => {
  const { header, rows } = tableCells(r.summary);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
figure { display: inline-block; margin: 1em 1em 1em 0; vertical-align: top; max-width: 640px; }
figcaption { font-size: 12px; color: #555; }
</style></head><body>
<h1>${escape(title)}</h1>
<p>${r.rows} jobs, ${r.summary.failed.length} failed. ${escape(convention)}</p>
<table><thead><tr>${header.map((h) => `<th>${escape(h)}</th>`).join("")}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("\n")}</tbody></table>
${r.figures.map((f) => `<figure data-file="${escape(f.file)}">${f.svg}<figcaption>${escape(f.caption)}</figcaption></figure>`).join("\n")}
${r.summary.failed.length > 0 ? `<h2>Failed jobs</h2><ul>${r.summary.failed.map((f) => `<li>${escape(f.name)}: ${escape((f.error ?? "").split("\n")[0]!)}</li>`).join("")}</ul>` : ""}
</body></html>
`;
};

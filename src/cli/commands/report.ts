import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { Command, Flag } from "effect/cli";
import { optional, text, positional, required } from "../flags.js";
import { exitCode, withInput } from "../runCommand.js";
import { readRows } from "../../sweep/results.js";
import { buildReport } from "../../report/report.js";
import { html, markdown } from "../../report/render.js";
import { BadInput } from "../../train/errors.js";
import { readInputFile } from "../../train/readInputFile.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";

/** Tables and figures from a results file: DIR/report.html (self-contained), DIR/report.md and DIR/figures/*.svg. */
const flags = {
  file: positional("RESULTS.jsonl", "rows written by peft sweep or peft gather"),
  out: required(text("out", "DIR"), "where report.html, report.md and figures/ go"),
  title: optional(Flag.String("title"), "the page's title (default: the sweeps' names and the file's)"),
};

export const report = Command.make(
  "report",
  flags,
  exitCode((args: Command.Command.Config.Infer<typeof flags>) =>
    withInput(
      () => {
        const file = resolve(args.file);
        const out = resolve(args.out);
        readInputFile(file, "RESULTS.jsonl");
        const rows = readRows(file);
        if (rows.length === 0) throw new BadInput({ lines: [`${file}: no result rows (one JSON object per line, as peft sweep and peft gather write)`] });
        const title = args.title ?? `${[...new Set(rows.map((r) => r.sweep))].join(", ")} (${basename(file)})`;
        return { out, title, report: buildReport(rows, dirname(file)) };
      },
      async ({ out, title, report: r }) => {
        mkdirSync(join(out, "figures"), { recursive: true });
        for (const f of r.figures) writeFileAtomic(join(out, "figures", f.file), `${f.svg}\n`);
        writeFileAtomic(join(out, "report.md"), markdown(r, title));
        writeFileAtomic(join(out, "report.html"), html(r, title));
        process.stdout.write(`wrote ${out}/report.html, report.md and ${r.figures.length} figure(s) from ${r.rows} jobs\n`);
        return 0;
      },
    ),
  ),
).pipe(
  Command.withDescription("an HTML page and a Markdown table (with SVG plots) from a results file"),
  Command.withExamples([
    { command: "peft report runs/mini-vtab/results.jsonl --out reports/mini-vtab", description: "tables per task and method, mean ± std over seeds" },
  ]),
);

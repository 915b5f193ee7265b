import { mkdirSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { onePositional, parse, requireFlag } from "../args.js";
import { withInput } from "../runCommand.js";
import { readRows } from "../../sweep/results.js";
import { buildReport } from "../../report/report.js";
import { html, markdown } from "../../report/render.js";
import { BadInput } from "../../train/errors.js";
import { readInputFile } from "../../train/readInputFile.js";
import { writeFileAtomic } from "../../util/atomicWrite.js";

export const reportUsage = "peft report RESULTS.jsonl --out DIR [--title TEXT]";

/** Tables and figures from a results file: DIR/report.html (self-contained), DIR/report.md and DIR/figures/*.svg. */
export const report = (argv: readonly string[]): Promise<number> =>
  withInput(
    () => {
      const { values, positionals } = parse(argv, { out: { type: "string" }, title: { type: "string" } });
      const file = resolve(onePositional(positionals, `results file (${reportUsage})`));
      const out = resolve(requireFlag("out", values.out));
      readInputFile(file, "RESULTS.jsonl");
      const rows = readRows(file);
      if (rows.length === 0) throw new BadInput({ lines: [`${file}: no result rows (one JSON object per line, as peft sweep and peft gather write)`] });
      const title = (values.title as string | undefined) ?? `${[...new Set(rows.map((r) => r.sweep))].join(", ")} (${basename(file)})`;
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
  );

/** One line of a run's log.jsonl, with the epoch it belongs to (−1: before training). */
export interface LogRecord {
  readonly line: string;
  readonly epoch: number;
}

/**
 * A run's log.jsonl read back: its records, and how many lines were torn (a write cut short by
 * a full disk or a kill) and left out, so that a resume is never blocked by its own log.
 */
export const readLog = (text: string): { readonly records: readonly LogRecord[]; readonly torn: number } => {
  const records: LogRecord[] = [];
  let torn = 0;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    try {
      const r = JSON.parse(line) as { epoch?: unknown };
      if (typeof r.epoch !== "number") throw new Error("no epoch");
      records.push({ line, epoch: r.epoch });
    } catch {
      torn += 1;
    }
  }
  return { records, torn };
};

import { appendFileSync } from "node:fs";
import type { PreludeRecord } from "../interpreters/rules/prelude.js";
import type { ReconfigurationRecord } from "../interpreters/rules/reconfigure.js";
import type { EpochRecord } from "./runResult.js";

/** One line of a run's log.jsonl, with its type and the epoch it belongs to (−1: before training). */
export interface LogRecord {
  readonly line: string;
  readonly type: string;
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
      const r = JSON.parse(line) as { type?: unknown; epoch?: unknown };
      if (typeof r.epoch !== "number") throw new Error("no epoch");
      records.push({ line, type: String(r.type), epoch: r.epoch });
    } catch {
      torn += 1;
    }
  }
  return { records, torn };
};

/** Every kind of line `peft train` writes to log.jsonl. */
export type LogLine =
  | {
      readonly type: "step";
      readonly epoch: number;
      readonly step: number;
      readonly loss: number;
      readonly lr: number;
      readonly terms: Readonly<Record<string, number>>;
    }
  | ({ readonly type: "epoch" } & EpochRecord)
  | ({ readonly type: "rule"; readonly epoch: -1 } & PreludeRecord)
  | ({ readonly type: "reconfigure" } & ReconfigurationRecord)
  | {
      readonly type: "error";
      readonly epoch: number;
      readonly step: number;
      readonly lr: number;
      readonly terms: Readonly<Record<string, number>>;
      readonly gradMaxAbs: number;
    };

/** Append one line to a run's log. */
export const appendLogLine = (path: string, line: LogLine): void => appendFileSync(path, `${JSON.stringify(line)}\n`);

/**
 * The log a resume continues: the lines of the epochs the checkpoint holds (a killed epoch's
 * steps go: it is trained again), each such epoch ending with its epoch line — taken from the
 * checkpoint where the kill fell between the checkpoint's write and the line's.
 */
export const resumedLog = (records: readonly LogRecord[], history: readonly EpochRecord[]): string => {
  const logged = new Set(records.filter((r) => r.type === "epoch").map((r) => r.epoch));
  // Epochs −1 (before training) … the checkpoint's last.
  const epochs = Array.from({ length: history.length + 1 }, (_, i) => i - 1);
  return epochs
    .flatMap((e) => [
      ...records.filter((r) => r.epoch === e).map((r) => r.line),
      ...(e >= 0 && !logged.has(e) ? [JSON.stringify({ type: "epoch", ...history[e] })] : []),
    ])
    .map((line) => `${line}\n`)
    .join("");
};

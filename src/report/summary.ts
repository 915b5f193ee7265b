import { miniVtabGroups } from "../dsl/miniVtab.js";
import type { Row } from "../sweep/results.js";

/** Mean and sample standard deviation (0 for one value). */
export interface Stat {
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

export const stat = (xs: readonly number[]): Stat => {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
};

/** A method with one parameter point: a row of the report's table. */
export const variantOf = (r: Row): string =>
  `${r.method}${Object.entries(r.params)
    .map(([k, v]) => ` ${k.split(/\.|\[/).at(-1)?.replace("]", "")}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join("")}`;

export interface Summary {
  /** Tasks in table order: grouped as VTAB (natural, specialized, structured, then others). */
  readonly tasks: readonly { readonly task: string; readonly group: string }[];
  readonly groups: readonly string[];
  readonly variants: readonly {
    readonly variant: string;
    /** Test accuracy over seeds, per task (absent where no seed finished). */
    readonly cells: ReadonlyMap<string, Stat>;
    /** Mean over the group's tasks of the per-task means; null unless every task of the group has a result. */
    readonly groupMeans: ReadonlyMap<string, number | null>;
    /** The mean of the group means (VTAB's convention); null unless every group has one. */
    readonly mean: number | null;
    readonly trainable: number;
    readonly trainablePercent: number;
  }[];
  readonly failed: readonly Row[];
}

/** Aggregate rows (the latest row per job id wins) into the report's table. */
export const summarise = (all: readonly Row[]): Summary => {
  const latest = [...new Map(all.map((r) => [r.id, r])).values()];
  const ok = latest.filter((r) => r.status === "ok");
  const order = [...miniVtabGroups, "mnist"];
  const taskGroup = new Map(ok.map((r) => [r.task, r.group]));
  const tasks = [...taskGroup].map(([task, group]) => ({ task, group })).sort((a, b) => order.indexOf(a.group) - order.indexOf(b.group));
  const groups = [...new Set(tasks.map((t) => t.group))];
  const variants = [...new Set(ok.map(variantOf))].map((variant) => {
    const mine = ok.filter((r) => variantOf(r) === variant);
    const cells = new Map(
      tasks.flatMap(({ task }) => {
        const xs = mine.filter((r) => r.task === task).map((r) => r.testAccuracy!);
        return xs.length === 0 ? [] : [[task, stat(xs)] as const];
      }),
    );
    const groupMeans = new Map(
      groups.map((g) => {
        const inGroup = tasks.filter((t) => t.group === g);
        return [g, inGroup.every((t) => cells.has(t.task)) ? stat(inGroup.map((t) => cells.get(t.task)!.mean)).mean : null] as const;
      }),
    );
    const means = [...groupMeans.values()];
    return {
      variant,
      cells,
      groupMeans,
      mean: means.every((m) => m !== null) ? stat(means as number[]).mean : null,
      trainable: stat(mine.map((r) => r.trainable!)).mean,
      trainablePercent: stat(mine.map((r) => r.trainablePercent!)).mean,
    };
  });
  return { tasks, groups, variants, failed: latest.filter((r) => r.status === "failed") };
};

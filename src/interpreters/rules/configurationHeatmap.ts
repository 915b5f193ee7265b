import type { ReconfigurationRecord } from "./reconfigure.js";
import { trainingUnits, type Unit } from "./decide.js";
import { escapeHtml } from "../../util/escape.js";

export interface HeatmapInput {
  readonly records: readonly ReconfigurationRecord[];
  /** Optimiser steps completed at the end of each epoch (history[].steps). */
  readonly epochEnds: readonly number[];
  readonly units: readonly Unit[];
  readonly retain: "refocus" | "accumulate";
}

/**
 * DAF's activation map (the paper's Figure 5) as an SVG, one column per epoch. Top: blocks × epochs,
 * shaded by the scalars trained in the block (step-weighted, relative to the largest cell).
 * Below: one row per unit that was ever selected, grouped by block. Blue: trained during the
 * epoch (shade = share of its steps); grey: holds a frozen module or tuned value; blank: untouched.
 */
export const configurationHeatmap = ({ records, epochEnds, units, retain }: HeatmapInput): string => {
  const present = new Set(records.flatMap((r) => r.present));
  const rows = units.filter((u) => present.has(u.name));
  const blocks = [...new Set(units.map((u) => u.block))];
  const epochs = epochEnds.length;
  const cell = { w: 18, h: 12 };
  const left = 250;
  const top = 48 + blocks.length * cell.h + 16;
  // Wide enough for the title and the legend however few epochs there are.
  const width = Math.max(left + epochs * cell.w + 20, 470);
  const height = top + rows.length * cell.h + 56;
  // Steps of epoch e: [epochEnds[e − 1], epochEnds[e]); record k governs [step_k, step_{k+1}).
  const share = (unit: string, e: number): { training: number; holding: boolean } => {
    const from = e === 0 ? 0 : epochEnds[e - 1]!;
    const to = epochEnds[e]!;
    let training = 0;
    let holding = false;
    records.forEach((r, k) => {
      const end = k + 1 < records.length ? records[k + 1]!.step : Infinity;
      const overlap = Math.min(end, to) - Math.max(r.step, from);
      if (overlap <= 0) return;
      if (trainingUnits(r, retain).includes(unit)) training += overlap;
      else if (r.present.includes(unit)) holding = true;
    });
    return { training: to > from ? training / (to - from) : 0, holding };
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="10">`,
    `<text x="8" y="16" font-size="12">Trained units per epoch (${records.length} reconfigurations, ${retain})</text>`,
  ];
  for (let e = 0; e < epochs; e++) {
    parts.push(`<text x="${left + e * cell.w + cell.w / 2}" y="${top - 6}" text-anchor="middle">${e}</text>`);
    const start = e === 0 ? 0 : epochEnds[e - 1]!;
    if (records.some((r) => r.step >= start && r.step < epochEnds[e]!)) parts.push(`<path d="M${left + e * cell.w} ${top - 20}v6" stroke="#c00"/>`);
  }
  const blockLoad = blocks.map((b) =>
    Array.from({ length: epochs }, (_, e) => units.filter((u) => u.block === b).reduce((n, u) => n + u.cost * share(u.name, e).training, 0)),
  );
  const peak = Math.max(1e-9, ...blockLoad.flat());
  blocks.forEach((b, i) => {
    const y = 48 + i * cell.h;
    const label = b === null ? "embeddings, final norm" : `block ${b}`;
    parts.push(`<text x="${left - 6}" y="${y + cell.h - 2}" text-anchor="end" font-weight="bold">${label}</text>`);
    blockLoad[i]!.forEach((load, e) =>
      parts.push(
        `<rect x="${left + e * cell.w}" y="${y}" width="${cell.w - 1}" height="${cell.h - 1}" fill="rgba(200,80,20,${(load / peak).toFixed(3)})" stroke="#eee"><title>${label}, epoch ${e}: ${Math.round(load)} scalars trained</title></rect>`,
      ),
    );
  });
  rows.forEach((u, i) => {
    const y = top + i * cell.h;
    const fresh = i === 0 || rows[i - 1]!.block !== u.block;
    if (fresh && i > 0) parts.push(`<path d="M0 ${y}H${width}" stroke="#999" stroke-width="0.5"/>`);
    parts.push(`<text x="${left - 6}" y="${y + cell.h - 2}" text-anchor="end">${escapeHtml(u.name)}</text>`);
    for (let e = 0; e < epochs; e++) {
      const { training, holding } = share(u.name, e);
      const fill = training > 0 ? `rgba(31,90,200,${(0.25 + 0.75 * training).toFixed(3)})` : holding ? "#d6d6d6" : "#f7f7f7";
      parts.push(
        `<rect x="${left + e * cell.w}" y="${y}" width="${cell.w - 1}" height="${cell.h - 1}" fill="${fill}"><title>${escapeHtml(u.name)}, epoch ${e}: ${training > 0 ? `trained ${(100 * training).toFixed(0)}% of steps` : holding ? "frozen, kept" : "untouched"}</title></rect>`,
      );
    }
  });
  const legendY = top + rows.length * cell.h + 20;
  parts.push(
    `<text x="${left - 6}" y="${legendY}" text-anchor="end">epoch →  (red tick: reconfiguration)</text>`,
    `<rect x="8" y="${legendY + 10}" width="12" height="10" fill="rgba(31,90,200,1)"/><text x="24" y="${legendY + 19}">trained</text>`,
    `<rect x="78" y="${legendY + 10}" width="12" height="10" fill="#d6d6d6"/><text x="94" y="${legendY + 19}">frozen, kept in forward and merge</text>`,
    `<rect x="290" y="${legendY + 10}" width="12" height="10" fill="rgba(200,80,20,0.8)"/><text x="306" y="${legendY + 19}">scalars trained in the block</text>`,
    "</svg>",
  );
  return `${parts.join("\n")}\n`;
};

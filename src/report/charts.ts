/** Small self-contained SVG charts for reports: lines and scatters with axes, ticks and a legend. */
import { escapeHtml } from "../util/escape.js";

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

export interface ChartOptions {
  readonly title: string;
  readonly x: string;
  readonly y: string;
  readonly logX?: boolean;
  /** "line": points joined in x order; "scatter": dots only. */
  readonly kind: "line" | "scatter";
}

const palette = ["#1f5ac8", "#d9480f", "#2b8a3e", "#862e9c", "#e67700", "#0b7285", "#c2255c", "#5c940d", "#8a5a00", "#495057", "#15aabf", "#000000"];

/** A chart's size in CSS pixels, drawn at that size: three fit side by side on a 1280-pixel-wide page, text at 11 px. */
export const chartWidth = 380;
const plotHeight = 180;
/** The legend sits under the plot, two names a row, so the plot keeps the chart's width however many series there are. */
const legendColumn = (chartWidth - 60) / 2;
const legendRow = 15;

/** Text cut to `n` characters (the full text is the element's tooltip). */
const shortened = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const ticks = (lo: number, hi: number, count = 5): number[] => {
  if (hi <= lo) return [lo];
  const step = 10 ** Math.floor(Math.log10((hi - lo) / count));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => (hi - lo) / s <= count) ?? 10 * step;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-12; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
};

const format = (v: number): string => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(4))));

export const chart = (series: readonly Series[], o: ChartOptions): string => {
  const width = chartWidth;
  const m = { left: 50, right: 12, top: 28, bottom: 40 };
  const legendTop = m.top + plotHeight + m.bottom;
  const height = legendTop + Math.ceil(series.length / 2) * legendRow + 6;
  const all = series.flatMap((s) => s.points);
  const tx = (x: number) => (o.logX ? Math.log10(x) : x);
  const xs = all.map((p) => tx(p[0]));
  const ys = all.map((p) => p[1]);
  const pad = (lo: number, hi: number) => (hi > lo ? [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)] : [lo - 1, hi + 1]) as [number, number];
  const [x0, x1] = all.length === 0 ? [0, 1] : pad(Math.min(...xs), Math.max(...xs));
  const [y0, y1] = all.length === 0 ? [0, 1] : pad(Math.min(...ys), Math.max(...ys));
  const px = (x: number) => m.left + ((tx(x) - x0) / (x1 - x0)) * (width - m.left - m.right);
  const py = (y: number) => m.top + plotHeight - ((y - y0) / (y1 - y0)) * plotHeight;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img" aria-label="${escapeHtml(o.title)}">`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${escapeHtml(shortened(o.title, 46))}<title>${escapeHtml(o.title)}</title></text>`,
    `<path d="M${m.left} ${m.top}V${m.top + plotHeight}H${width - m.right}" fill="none" stroke="#333"/>`,
  ];
  const xTicks = o.logX
    ? ticks(Math.ceil(x0), Math.floor(x1))
        .filter(Number.isInteger)
        .map((e) => 10 ** e)
    : ticks(x0, x1);
  for (const t of xTicks)
    parts.push(
      `<text x="${px(t)}" y="${m.top + plotHeight + 15}" text-anchor="middle">${format(t)}</text><path d="M${px(t)} ${m.top + plotHeight}v4" stroke="#333"/>`,
    );
  for (const t of ticks(y0, y1))
    parts.push(
      `<text x="${m.left - 6}" y="${py(t) + 4}" text-anchor="end">${format(t)}</text><path d="M${m.left} ${py(t)}H${width - m.right}" stroke="#eee"/>`,
    );
  parts.push(`<text x="${(m.left + width - m.right) / 2}" y="${m.top + plotHeight + 31}" text-anchor="middle">${escapeHtml(o.x)}</text>`);
  parts.push(`<text transform="translate(14 ${m.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(o.y)}</text>`);
  series.forEach((s, i) => {
    const colour = palette[i % palette.length]!;
    const pts = [...s.points].sort((a, b) => a[0] - b[0]);
    if (o.kind === "line" && pts.length > 1)
      parts.push(
        `<path d="${pts.map((p, k) => `${k === 0 ? "M" : "L"}${px(p[0]).toFixed(1)} ${py(p[1]).toFixed(1)}`).join("")}" fill="none" stroke="${colour}" stroke-width="1.8"/>`,
      );
    for (const p of pts)
      parts.push(
        `<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="${o.kind === "scatter" ? 4 : 2.5}" fill="${colour}"><title>${escapeHtml(s.name)}: (${format(p[0])}, ${format(p[1])})</title></circle>`,
      );
    const [x, y] = [m.left + (i % 2) * legendColumn, legendTop + Math.floor(i / 2) * legendRow];
    parts.push(
      `<rect x="${x}" y="${y}" width="10" height="10" fill="${colour}"/><text x="${x + 15}" y="${y + 9}">${escapeHtml(shortened(s.name, 26))}<title>${escapeHtml(s.name)}</title></text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
};

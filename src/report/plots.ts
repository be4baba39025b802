/**
 * Learning curves as standalone SVG, written by hand (no native or browser dependency):
 * one figure per (dataset, arch, recipe) with three panels (train loss, test error %, test NLL),
 * one line per mixup setting (mean over seeds) and a shaded min–max band across seeds.
 */
import { createHash } from 'node:crypto';
import { archLabel, datasetLabel, mixupLabel } from './paper.js';
import { recipeId, recipeLabel, type Group } from './aggregate.js';
import type { EpochPoint } from './runs.js';
import { curveKey } from './tables.js';

export interface SeriesPoint {
  x: number;
  mean: number;
  min: number;
  max: number;
}

export interface Series {
  label: string;
  points: SeriesPoint[];
}

export interface CurvePanel {
  title: string;
  series: Series[];
}

export interface CurveFigure {
  /** File name, unique per (dataset, arch, recipe). */
  file: string;
  /** Key matching tables.curveKey. */
  key: string;
  svg: string;
}

const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];
const PANEL = { w: 300, h: 210, left: 60, right: 20, top: 28, bottom: 44 };
const LEGEND_ROW = 18;

/**
 * The color mixed with white: bands are pale even where a renderer ignores opacity
 * (ImageMagick's internal one does); where it is honoured, overlapping bands stay visible.
 */
function tint(hex: string, amount: number): string {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return `#${c.map((v) => Math.round(255 - (255 - v) * amount).toString(16).padStart(2, '0')).join('')}`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Round tick positions covering [lo, hi]: steps of 1, 2 or 5 × 10^k. */
export function niceTicks(lo: number, hi: number, target = 5, integer = false): number[] {
  if (!(hi > lo)) {
    const pad = Math.abs(lo) * 0.05 || 1;
    [lo, hi] = [lo - pad, hi + pad];
  }
  const raw = (hi - lo) / Math.max(1, target - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const ticks: number[] = [];
  for (let t = Math.floor(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(+t.toFixed(10));
  if (ticks[ticks.length - 1] < hi) ticks.push(+(ticks[ticks.length - 1] + step).toFixed(10));
  return ticks;
}

function tickLabel(t: number, step: number): string {
  const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return t.toFixed(digits);
}

function renderPanel(p: CurvePanel, ox: number, oy: number): string {
  const pts = p.series.flatMap((s) => s.points);
  const out: string[] = [`<g class="panel" transform="translate(${ox},${oy})">`];
  out.push(`<text class="panel-title" x="${PANEL.left + PANEL.w / 2}" y="${PANEL.top - 10}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`);
  const x0 = PANEL.left;
  const y0 = PANEL.top;
  if (pts.length) {
    const xt = niceTicks(Math.min(...pts.map((q) => q.x)), Math.max(...pts.map((q) => q.x)), 6, true);
    const yt = niceTicks(Math.min(...pts.map((q) => q.min)), Math.max(...pts.map((q) => q.max)), 5);
    const [xa, xb, ya, yb] = [xt[0], xt[xt.length - 1], yt[0], yt[yt.length - 1]];
    const sx = (x: number) => r2(x0 + ((x - xa) / (xb - xa)) * PANEL.w);
    const sy = (y: number) => r2(y0 + PANEL.h - ((y - ya) / (yb - ya)) * PANEL.h);
    const xstep = xt.length > 1 ? xt[1] - xt[0] : 1;
    const ystep = yt.length > 1 ? yt[1] - yt[0] : 1;
    for (const t of yt) {
      out.push(`<line class="grid" x1="${x0}" x2="${x0 + PANEL.w}" y1="${sy(t)}" y2="${sy(t)}" stroke="#e5e5e5"/>`);
      out.push(`<text class="tick" x="${x0 - 6}" y="${sy(t) + 4}" text-anchor="end">${tickLabel(t, ystep)}</text>`);
    }
    for (const t of xt) out.push(`<text class="tick" x="${sx(t)}" y="${y0 + PANEL.h + 16}" text-anchor="middle">${tickLabel(t, xstep)}</text>`);
    // Bands first, so that no band hides another series' line.
    p.series.forEach((s, i) => {
      if (!s.points.some((q) => q.max > q.min)) return;
      const upper = s.points.map((q) => `${sx(q.x)},${sy(q.max)}`);
      const lower = [...s.points].reverse().map((q) => `${sx(q.x)},${sy(q.min)}`);
      out.push(`<path class="band" d="M${[...upper, ...lower].join(' L')} Z" fill="${tint(PALETTE[i % PALETTE.length], 0.3)}" fill-opacity="0.6" stroke="none"/>`);
    });
    p.series.forEach((s, i) => {
      const color = PALETTE[i % PALETTE.length];
      const d = s.points.map((q, j) => `${j ? 'L' : 'M'}${sx(q.x)},${sy(q.mean)}`).join(' ');
      out.push(`<path class="series" data-label="${esc(s.label)}" d="${d}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round"/>`);
      if (s.points.length === 1) out.push(`<circle cx="${sx(s.points[0].x)}" cy="${sy(s.points[0].mean)}" r="3" fill="${color}"/>`);
    });
  } else {
    out.push(`<text x="${x0 + PANEL.w / 2}" y="${y0 + PANEL.h / 2}" text-anchor="middle" fill="#888">no data</text>`);
  }
  out.push(`<rect class="frame" x="${x0}" y="${y0}" width="${PANEL.w}" height="${PANEL.h}" fill="none" stroke="#333"/>`);
  out.push(`<text class="axis-label" x="${x0 + PANEL.w / 2}" y="${y0 + PANEL.h + 36}" text-anchor="middle">epoch</text>`);
  out.push(`<text class="axis-label" transform="translate(${x0 - 44},${y0 + PANEL.h / 2}) rotate(-90)" text-anchor="middle">${esc(p.title)}</text>`);
  out.push('</g>');
  return out.join('\n');
}

/** A figure of side-by-side panels sharing one legend (series in the same order in every panel). */
export function curvesSvg(title: string, subtitle: string, panels: CurvePanel[]): string {
  const pw = PANEL.left + PANEL.w + PANEL.right;
  const width = pw * panels.length;
  const head = 46;
  const labels = panels[0]?.series.map((s) => s.label) ?? [];
  const height = head + PANEL.top + PANEL.h + PANEL.bottom + 8 + LEGEND_ROW * labels.length;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text class="title" x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text class="subtitle" x="${width / 2}" y="38" text-anchor="middle" fill="#555">${esc(subtitle)}</text>`,
    ...panels.map((p, i) => renderPanel(p, i * pw, head)),
    '<g class="legend">',
  ];
  const ly = head + PANEL.top + PANEL.h + PANEL.bottom + 8;
  labels.forEach((label, i) => {
    const y = ly + i * LEGEND_ROW;
    const color = PALETTE[i % PALETTE.length];
    out.push(`<line x1="${PANEL.left}" x2="${PANEL.left + 24}" y1="${y}" y2="${y}" stroke="${color}" stroke-width="2.5"/>`);
    out.push(`<text x="${PANEL.left + 30}" y="${y + 4}">${esc(label)}</text>`);
  });
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}

/** Mean, min and max over the group's seeds at each epoch. */
export function groupSeries(g: Group, value: (p: EpochPoint) => number): Series {
  const byEpoch = new Map<number, number[]>();
  for (const r of g.runs) for (const p of r.curve) byEpoch.set(p.epoch, [...(byEpoch.get(p.epoch) ?? []), value(p)]);
  const points = [...byEpoch.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([x, vs]) => ({ x, mean: vs.reduce((a, b) => a + b, 0) / vs.length, min: Math.min(...vs), max: Math.max(...vs) }));
  return { label: `${mixupLabel(g.key)} (n=${g.runs.length})`, points };
}

const PANELS: [string, (p: EpochPoint) => number][] = [
  ['train loss', (p) => p.train_loss],
  ['test error %', (p) => 100 * p.test_err],
  ['test NLL', (p) => p.test_loss],
];

/** One figure per (dataset, arch, recipe) among the groups that have learning curves. */
export function learningCurves(groups: Group[]): CurveFigure[] {
  const clusters = new Map<string, Group[]>();
  for (const g of groups) {
    if (!g.runs.some((r) => r.curve.length)) continue;
    const k = curveKey(g.key.dataset, g.key.arch, g.recipe);
    clusters.set(k, [...(clusters.get(k) ?? []), g]);
  }
  return [...clusters.entries()].map(([key, list]) => {
    const { dataset, arch } = list[0].key;
    const hash = createHash('sha1').update(recipeId(list[0].recipe)).digest('hex').slice(0, 8);
    const panels = PANELS.map(([title, f]) => ({ title, series: list.map((g) => groupSeries(g, f)) }));
    const svg = curvesSvg(`${datasetLabel(dataset)}, ${archLabel(arch)}: learning curves`, `${recipeLabel(list[0].recipe)} · line = mean over seeds, band = min–max`, panels);
    return { file: `curves-${dataset}-${arch}-${hash}.svg`, key, svg };
  });
}

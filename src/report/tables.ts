/**
 * Paper tables and the table of every group, as Markdown (the paper's layout, ours beside
 * the published figure and the difference) and as long-format CSV rows.
 */
import { createObjectCsvStringifier } from 'csv-writer';
import {
  archLabel, cellCondition, cellMetric, datasetLabel, keyId, mixupLabel,
  type Condition, type MetricKind, type PaperCell, type PaperTable, type Panel, type RunKey,
} from './paper.js';
import { attacksOf, groupId, groupStat, groupValues, meanStd, recipeId, recipeLabel, type Group, type Stat, type Which } from './aggregate.js';
import type { Recipe, Skipped } from './runs.js';

// ---- number formatting ------------------------------------------------------------------

const MEAN_DIGITS: Record<MetricKind, number> = { error: 2, accuracy: 2, top5: 2, nll: 3 };
const STD_DIGITS = 3;
export const DASH = '—';

const decimals = (x: number) => (String(x).split('.')[1] ?? '').length;

/** "4.83 ± 0.066 (n=3)"; one run: "4.83 ± — (n=1)" (a sample std needs two); none: "—". */
export function formatStat(s: Stat | null, metric: MetricKind): string {
  if (!s) return DASH;
  const std = s.std === null ? DASH : s.std.toFixed(STD_DIGITS);
  return `${s.mean.toFixed(MEAN_DIGITS[metric])} ± ${std} (n=${s.n})`;
}

/** A published figure with at least the metric's usual decimals, and never fewer than printed. */
export function formatPaper(p: PaperCell['paper'], metric: MetricKind): string {
  if (!p) return DASH;
  const mean = p.mean.toFixed(Math.max(MEAN_DIGITS[metric], decimals(p.mean)));
  return p.std === undefined ? mean : `${mean} ± ${p.std.toFixed(Math.max(decimals(p.std), 2))}`;
}

export function delta(s: Stat | null, p: PaperCell['paper']): number | null {
  return s && p ? s.mean - p.mean : null;
}

/** Signed: "+0.20", "-0.11"; a difference that rounds to zero is "+0.00". */
export function formatDelta(d: number | null, metric: MetricKind): string {
  if (d === null) return DASH;
  const t = Math.abs(d).toFixed(MEAN_DIGITS[metric]);
  return d < 0 && /[1-9]/.test(t) ? `-${t}` : `+${t}`;
}

/** CSV numbers: rounded to drop floating-point noise, empty when absent. */
const csvNum = (x: number | null | undefined) => (x === null || x === undefined ? '' : Number(x.toFixed(6)));

// ---- markdown ---------------------------------------------------------------------------

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

export function markdownTable(header: string[], rows: string[][], align?: ('l' | 'r')[]): string {
  const a = align ?? header.map((_, i) => (i === 0 ? 'l' : 'r'));
  const line = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [line(header), `|${a.map((x) => (x === 'l' ? ' --- ' : ' ---: ')).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---- paper tables -----------------------------------------------------------------------

export interface TableContext {
  /** Groups by groupId. */
  groups: Map<string, Group>;
  /** Maps a paper row key to the key of the runs that stand for it (identity by default). */
  keyMap: (k: RunKey) => RunKey;
  /** Learning-curve files per (dataset, arch, recipe), for links. */
  curves: Map<string, string>;
}

export const curveKey = (dataset: string, arch: string, recipe: Recipe) => `${dataset}|${arch}|${recipeId(recipe)}`;

interface Section {
  recipe: Recipe | null;
  groups: Group[];
}

/** The recipes of the runs that a table's rows match: one section each. */
function sections(table: PaperTable, ctx: TableContext): Section[] {
  const wanted = new Set(table.panels.flatMap((p) => p.cells.map((c) => keyId(ctx.keyMap(c.key)))));
  const byRecipe = new Map<string, Section>();
  for (const g of ctx.groups.values()) {
    if (!wanted.has(keyId(g.key))) continue;
    const id = recipeId(g.recipe);
    const s = byRecipe.get(id) ?? { recipe: g.recipe, groups: [] };
    byRecipe.set(id, s);
    s.groups.push(g);
  }
  // Longest schedules first: the closest to the paper's recipe.
  const list = [...byRecipe.values()].sort(
    (a, b) => b.recipe!.epochs - a.recipe!.epochs || recipeLabel(a.recipe!).localeCompare(recipeLabel(b.recipe!), undefined, { numeric: true }),
  );
  return list.length ? list : [{ recipe: null, groups: [] }];
}

function findGroup(ctx: TableContext, key: RunKey, recipe: Recipe | null): Group | undefined {
  return recipe ? ctx.groups.get(groupId({ key: ctx.keyMap(key), recipe })) : undefined;
}

/** The (which, attack) views a panel is shown in: clean figures at the final and best epoch; attacks once per setting. */
function panelViews(p: Panel, section: Section, ctx: TableContext): { which: Which; attack?: string; title: string }[] {
  if (p.condition.kind === 'clean') {
    return [
      { which: 'final', title: `${p.title}, final epoch` },
      { which: 'best', title: `${p.title}, best epoch` },
    ];
  }
  if (p.condition.kind === 'fgsm') {
    const wanted = new Set(p.cells.map((c) => keyId(ctx.keyMap(c.key))));
    const attacks = attacksOf(section.groups.filter((g) => wanted.has(keyId(g.key))));
    if (!attacks.length) return [{ which: 'final', title: `${p.title}, no FGSM results` }];
    return attacks.map(({ attack, which }) => ({ which, attack, title: `${p.title}, ${attack}, ${which === 'final' ? 'last' : 'best'}-epoch weights` }));
  }
  return [{ which: 'final', title: `${p.title}, final epoch` }];
}

const conditionLabel = (c: Condition, attack?: string) =>
  c.kind === 'clean' ? 'clean' : c.kind === 'fgsm' ? `fgsm: ${attack ?? 'none'}` : `deformation: ${c.name}`;

export interface PaperTableOutput {
  markdown: string;
  csv: string;
}

const PAPER_CSV_COLUMNS = [
  'table', 'source', 'recipe', 'panel', 'metric', 'condition', 'which', 'row', 'column',
  'dataset', 'arch', 'mode', 'alpha', 'layers', 'variant', 'n', 'seeds', 'mean', 'std', 'paper_mean', 'paper_std', 'delta',
] as const;

function sourceLabel(t: PaperTable): string {
  const s = t.source;
  const version = s.version === 'unstated' ? 'version not stated in SPEC §6' : s.version;
  return `${version}, ${s.table}${s.runs ? `, ${s.runs === 1 ? 'single run' : `mean ± std of ${s.runs} runs`}` : ''}${s.note ? ` (${s.note})` : ''}`;
}

/** Paper datasets and archs that runs of another name stand in for (keyMap), as notes. */
function substitutions(table: PaperTable, ctx: TableContext): string[] {
  const notes = new Set<string>();
  for (const c of table.panels.flatMap((p) => p.cells)) {
    const m = ctx.keyMap(c.key);
    if (m.dataset !== c.key.dataset) notes.add(`Runs on ${datasetLabel(m.dataset)} stand in for ${datasetLabel(c.key.dataset)}.`);
    if (m.arch !== c.key.arch) notes.add(`Runs of ${archLabel(m.arch)} stand in for ${archLabel(c.key.arch)}.`);
  }
  return [...notes];
}

export function renderPaperTable(table: PaperTable, ctx: TableContext): PaperTableOutput {
  const md: string[] = [`## ${table.title}`, ''];
  md.push(`Paper: ${sourceLabel(table)}. Ours: mean ± sample std over seeds (n runs), ${DASH} where no run measured it; Δ = ours − paper.`);
  for (const note of [...table.notes, ...substitutions(table, ctx)]) md.push(`- ${note}`);
  const records: Record<string, string | number>[] = [];
  for (const section of sections(table, ctx)) {
    md.push('', section.recipe ? `### Runs: ${recipeLabel(section.recipe)}` : '### Runs: none found');
    if (section.recipe) {
      const links = [...new Set(section.groups.map((g) => ctx.curves.get(curveKey(g.key.dataset, g.key.arch, g.recipe))).filter((f): f is string => !!f))];
      if (links.length) md.push('', `Learning curves: ${links.map((f) => `[${f}](${f})`).join(', ')}`);
    }
    for (const p of table.panels) {
      for (const view of panelViews(p, section, ctx)) {
        const header = [p.rowHeader, ...p.cols.flatMap((c) => [c, 'paper', 'Δ'])];
        const rows = p.rows.map((row) => [
          row,
          ...p.cols.flatMap((col) => {
            const c = p.cells.find((x) => x.row === row && x.col === col);
            if (!c) return ['', '', ''];
            const g = findGroup(ctx, c.key, section.recipe);
            const metric = cellMetric(p, c);
            const values = groupValues(g, metric, cellCondition(p, c), view.which, view.attack);
            const stat = meanStd(values.map((v) => v.value));
            const seeds = values.map((v) => v.seed);
            const k = ctx.keyMap(c.key);
            records.push({
              table: table.id, source: `${table.source.version} ${table.source.table}`, recipe: section.recipe ? recipeLabel(section.recipe) : '',
              panel: p.title, metric, condition: conditionLabel(cellCondition(p, c), view.attack), which: view.which, row, column: col,
              dataset: k.dataset, arch: k.arch, mode: k.mode, alpha: k.alpha ?? '', layers: k.layers.join(','), variant: k.variant ?? '',
              n: stat?.n ?? 0, seeds: seeds.join(' '), mean: csvNum(stat?.mean), std: csvNum(stat?.std),
              paper_mean: csvNum(c.paper?.mean), paper_std: csvNum(c.paper?.std), delta: csvNum(delta(stat, c.paper)),
            });
            return [formatStat(stat, metric), formatPaper(c.paper, metric), formatDelta(delta(stat, c.paper), metric)];
          }),
        ]);
        md.push('', `#### ${view.title}`, '', markdownTable(header, rows));
      }
    }
  }
  const csv = createObjectCsvStringifier({ header: PAPER_CSV_COLUMNS.map((c) => ({ id: c, title: c })) });
  return { markdown: md.join('\n') + '\n', csv: csv.getHeaderString() + csv.stringifyRecords(records) };
}

// ---- every group ------------------------------------------------------------------------

const CLEAN: Condition = { kind: 'clean' };
const FGSM: Condition = { kind: 'fgsm' };
/** "FGSM ε=0.03 normalized unclipped bce accuracy % (last epoch)". */
const attackColumn = (a: { attack: string; which: Which }) => `${a.attack} accuracy % (${a.which === 'final' ? 'last' : 'best'} epoch)`;
const GROUP_FIGURES: [string, MetricKind, Which][] = [
  ['final error %', 'error', 'final'], ['best error %', 'error', 'best'], ['final NLL', 'nll', 'final'], ['best NLL', 'nll', 'best'],
];

/** Every group of runs, one section per recipe, with FGSM settings as extra columns; then the skipped runs. */
export function renderGroups(groups: Group[], skipped: Skipped[], warnings: string[], curves: Map<string, string>): PaperTableOutput {
  const md: string[] = ['## All runs by group', ''];
  md.push(`Mean ± sample std over seeds (n runs); "final" is the last epoch, "best" the epoch of best test accuracy. ${groups.reduce((a, g) => a + g.runs.length, 0)} runs in ${groups.length} groups.`);
  const byRecipe = new Map<string, Group[]>();
  for (const g of groups) byRecipe.set(recipeId(g.recipe), [...(byRecipe.get(recipeId(g.recipe)) ?? []), g]);
  for (const list of byRecipe.values()) {
    const attacks = attacksOf(list);
    md.push('', `### Runs: ${recipeLabel(list[0].recipe)}`);
    const links = [...new Set(list.map((g) => curves.get(curveKey(g.key.dataset, g.key.arch, g.recipe))).filter((f): f is string => !!f))];
    if (links.length) md.push('', `Learning curves: ${links.map((f) => `[${f}](${f})`).join(', ')}`);
    const header = ['dataset', 'model', 'mixup', 'seeds', ...GROUP_FIGURES.map(([t]) => t), ...attacks.map(attackColumn)];
    const rows = list.map((g) => [
      datasetLabel(g.key.dataset), archLabel(g.key.arch), mixupLabel(g.key), g.runs.map((r) => r.seed).join(', '),
      ...GROUP_FIGURES.map(([, m, w]) => formatStat(groupStat(g, m, CLEAN, w), m)),
      ...attacks.map((a) => formatStat(groupStat(g, 'accuracy', FGSM, a.which, a.attack), 'accuracy')),
    ]);
    md.push('', markdownTable(header, rows, header.map((_, i) => (i < 4 ? 'l' : 'r'))));
  }
  if (skipped.length) {
    md.push('', `### Skipped (${skipped.length})`, '');
    for (const s of skipped) md.push(`- ${s.dir}: ${s.reason}`);
  }
  if (warnings.length) {
    md.push('', '### Warnings', '');
    for (const w of warnings) md.push(`- ${w}`);
  }

  const attacks = attacksOf(groups);
  const columns = [
    'dataset', 'arch', 'mode', 'alpha', 'layers', 'width', 'epochs', 'milestones', 'gamma', 'loss', 'batch_size', 'lr', 'weight_decay',
    'train_limit', 'test_limit', 'n', 'seeds',
    ...['final_err', 'best_err', 'final_nll', 'best_nll'].flatMap((m) => [`${m}_mean`, `${m}_std`]),
    ...attacks.flatMap((a) => [`${attackColumn(a)} mean`, `${attackColumn(a)} std`, `${attackColumn(a)} n`]),
  ];
  const records = groups.map((g) => {
    const r = g.recipe;
    const rec: Record<string, string | number> = {
      dataset: g.key.dataset, arch: g.key.arch, mode: g.key.mode, alpha: g.key.alpha ?? '', layers: g.key.layers.join(','),
      width: r.width, epochs: r.epochs, milestones: r.milestones.join(' '), gamma: r.gamma, loss: r.loss, batch_size: r.batch_size,
      lr: r.lr, weight_decay: r.weight_decay, train_limit: r.train_limit ?? '', test_limit: r.test_limit ?? '',
      n: g.runs.length, seeds: g.runs.map((x) => x.seed).join(' '),
    };
    for (const [, m, w] of GROUP_FIGURES) {
      const s = groupStat(g, m, CLEAN, w);
      const name = `${w}_${m === 'error' ? 'err' : 'nll'}`;
      rec[`${name}_mean`] = csvNum(s?.mean);
      rec[`${name}_std`] = csvNum(s?.std);
    }
    for (const a of attacks) {
      const s = groupStat(g, 'accuracy', FGSM, a.which, a.attack);
      rec[`${attackColumn(a)} mean`] = csvNum(s?.mean);
      rec[`${attackColumn(a)} std`] = csvNum(s?.std);
      rec[`${attackColumn(a)} n`] = s?.n ?? 0;
    }
    return rec;
  });
  const csv = createObjectCsvStringifier({ header: columns.map((c) => ({ id: c, title: c })) });
  return { markdown: md.join('\n') + '\n', csv: csv.getHeaderString() + csv.stringifyRecords(records) };
}


/**
 * Paper-layout tables from fake run directories, against golden Markdown files in
 * test/fixtures/report/ (UPDATE_GOLDEN=1 rewrites them), and the CSV beside each.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReport, matchedTables } from '../../src/report/report.js';
import { loadRuns } from '../../src/report/runs.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { writeFakeRun, writeGoldenRuns } from './fake-runs.js';

const fixtures = join(packageRoot(), 'test', 'fixtures', 'report');

function golden(name: string, actual: string) {
  const path = join(fixtures, name);
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(path, actual);
  assert.ok(existsSync(path), `missing golden file ${path} (UPDATE_GOLDEN=1 writes it)`);
  assert.equal(actual, readFileSync(path, 'utf8'), `${name} differs from the golden file`);
}

/** Splits CSV text into rows of fields (quoted fields may hold commas and doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.trimEnd().split('\n')) {
    const fields: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') (cur += '"'), i++;
        else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ',') fields.push(cur), (cur = '');
      else cur += ch;
    }
    fields.push(cur);
    rows.push(fields);
  }
  return rows;
}

function goldenReport() {
  const root = mkdtempSync(join(tmpdir(), 'report-golden-'));
  writeGoldenRuns(root);
  return { root, report: buildReport(loadRuns([root]), { tables: ['table1a', 'fgsm'] }) };
}

const file = (r: ReturnType<typeof goldenReport>['report'], name: string) => r.files.find((f) => f.name === name)!.content;

test('Table 1a in the paper layout matches the golden file', () => {
  golden('table1a.md', file(goldenReport().report, 'table1a.md'));
});

test('FGSM table: one panel per attack setting, golden', () => {
  golden('fgsm.md', file(goldenReport().report, 'fgsm.md'));
});

test('every group, with the skipped runs and why, golden (run paths relative)', () => {
  const { root, report } = goldenReport();
  golden('groups.md', file(report, 'groups.md').split(root).join('<runs>'));
  assert.equal(report.skipped.length, 4);
});

test('Table 1a CSV: one row per cell and view, hand-computed figures', () => {
  const rows = parseCsv(file(goldenReport().report, 'table1a.csv'));
  const header = rows[0];
  assert.deepEqual(header.slice(0, 9), ['table', 'source', 'recipe', 'panel', 'metric', 'condition', 'which', 'row', 'column']);
  const records = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  // 2 sections (paper recipe, short recipe) × 2 panels × 2 views × 9 cells
  assert.equal(records.length, 72);
  const find = (o: Record<string, string>) => records.filter((r) => Object.entries(o).every(([k, v]) => r[k] === v));
  const paper = records.find((r) => r.recipe.startsWith('width 64 · 1200 epochs'))!.recipe;
  const [none] = find({ panel: 'test error %', which: 'final', row: 'PreActResNet18', column: 'No Mixup', recipe: paper });
  // 5.0, 5.2, 4.9 → mean 5.033333, std √(21/900) = 0.152753; Δ = 5.033333 − 4.83
  assert.deepEqual(
    [none.n, none.seeds, none.mean, none.std, none.paper_mean, none.paper_std, none.delta, none.layers, none.alpha, none.source],
    ['3', '0 1 2', '5.033333', '0.152753', '4.83', '0.066', '0.203333', '', '', 'v7 Table 1a'],
  );
  const [best] = find({ panel: 'test error %', which: 'best', row: 'PreActResNet18', column: 'No Mixup', recipe: paper });
  assert.equal(best.mean, '4.9'); // 4.8, 5.0, 4.9
  const [man] = find({ panel: 'test NLL', which: 'final', row: 'PreActResNet18', column: 'Manifold Mixup α=2', recipe: paper });
  assert.deepEqual([man.n, man.mean, man.std, man.layers, man.delta], ['1', '0.14', '', '0,1,2', '0.003']);
  const empty = find({ row: 'WRN-28-10', column: 'Input Mixup α=1', which: 'final', panel: 'test NLL' });
  assert.ok(empty.length === 2 && empty.every((r) => r.n === '0' && r.mean === '' && r.paper_mean === '0.173' && r.delta === ''));
});

test('groups CSV: every group with its recipe, and FGSM settings as columns', () => {
  const rows = parseCsv(file(goldenReport().report, 'groups.csv'));
  const header = rows[0];
  const records = rows.slice(1).map((r) => Object.fromEntries(header.map((h, i) => [h, r[i]])));
  assert.equal(records.length, 6);
  const none = records.find((r) => r.mode === 'none' && r.arch === 'preactresnet18')!;
  assert.deepEqual([none.n, none.milestones, none.final_err_mean, none.final_err_std], ['3', '400 800', '5.033333', '0.152753']);
  const col = 'FGSM ε=0.03 normalized unclipped bce accuracy %';
  assert.deepEqual([none[`${col} (last epoch) mean`], none[`${col} (last epoch) std`], none[`${col} (last epoch) n`]], ['32', '2.828427', '2'], 'the PGD row is not FGSM');
  const input = records.find((r) => r.mode === 'input')!;
  assert.deepEqual([input[`${col} (last epoch) n`], input[`${col} (best epoch) mean`]], ['0', '70']);
  const man = records.find((r) => r.mode === 'manifold' && r.alpha === '2' && r.layers === '0,1,2')!;
  assert.equal(man.final_err_mean, '3', 'the older repeat of seed 0 is not averaged in');
});

test('tables without runs show the paper figure and —; default tables are the matched ones', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-empty-'));
  writeFakeRun(root, 'fm', { dataset: 'fashion-mnist-subset', width: 2 });
  const report = buildReport(loadRuns([root]), { tables: ['table2'] });
  const md = file(report, 'table2.md');
  assert.match(md, /### Runs: none found/);
  assert.match(md, /\| WRN-28-10 \| — \| 2\.80 ± 0\.044 \| — \| — \| 2\.68 ± 0\.103 \| — \| — \| 2\.06 ± 0\.068 \| — \|/);
  assert.deepEqual(buildReport(loadRuns([root])).tables, []);
  const g = buildReport(loadRuns([mkdtempSync(join(tmpdir(), 'x-'))]));
  assert.deepEqual(g.tables, []);
  const { report: full } = goldenReport();
  assert.deepEqual(matchedTables(full.groups), ['table1a', 'table5', 'table6', 'fgsm', 'v3-table1']);
});

test('keyMap: runs of a stand-in dataset fill a paper table, and the table says so', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-map-'));
  writeFakeRun(root, 'fm', { dataset: 'fashion-mnist-subset', width: 2, final: { err: 0.2, nll: 0.6 } });
  const report = buildReport(loadRuns([root]), { tables: ['table1a'], keyMap: (k) => ({ ...k, dataset: 'fashion-mnist-subset' }) });
  const md = file(report, 'table1a.md');
  assert.match(md, /Runs on Fashion-MNIST subset stand in for CIFAR-10\./);
  assert.match(md, /\| PreActResNet18 \| 20\.00 ± — \(n=1\) \| 4\.83 ± 0\.066 \| \+15\.17 \|/);
});

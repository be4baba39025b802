/** The reference numbers: spot checks against SPEC §6 and the shape every table must have. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyId, PAPER_TABLES, paperFigures, TABLE_IDS, tableRunKeys, type MetricKind } from '../../src/report/paper.js';

function figure(table: (typeof TABLE_IDS)[number], metric: MetricKind, match: (k: { dataset: string; arch: string; mode: string; alpha: number | null; layers: number[] }) => boolean) {
  const hits = paperFigures().filter((f) => f.table === table && f.metric === metric && match(f.key));
  assert.equal(hits.length, 1, `${table} ${metric}: ${hits.length} figures match`);
  return hits[0];
}

test('spot checks against SPEC §6', () => {
  const m = figure('table1a', 'error', (k) => k.arch === 'preactresnet18' && k.mode === 'manifold');
  assert.deepEqual([m.mean, m.std, m.key.alpha, m.key.layers, m.key.dataset], [2.95, 0.046, 2, [0, 1, 2], 'cifar10']);
  assert.deepEqual(m.source, { version: 'v7', table: 'Table 1a', runs: 5 });
  assert.equal(figure('table1b', 'nll', (k) => k.arch === 'wrn28_10' && k.mode === 'input').mean, 0.927);
  assert.equal(figure('table2', 'error', (k) => k.arch === 'preactresnet34' && k.mode === 'none').std, 0.004);
  assert.equal(figure('table3', 'top5', (k) => k.mode === 'manifold' && k.alpha === 1).mean, 73.75);
  assert.equal(figure('table5', 'accuracy', (k) => k.dataset === 'cifar100' && k.mode === 'manifold' && k.layers.join() === '0,1,2,3').mean, 80.18);
  // Table 5's S = {0} row is Input Mixup at α = 2 and matches Table 6's input α = 2 figure.
  const s0 = figure('table5', 'accuracy', (k) => k.dataset === 'cifar10' && k.mode === 'input');
  assert.equal(s0.key.alpha, 2);
  assert.equal(figure('table6', 'accuracy', (k) => k.mode === 'input' && k.alpha === 2).mean, s0.mean);
  assert.equal(figure('table5', 'accuracy', (k) => k.dataset === 'cifar10' && k.mode === 'none').mean, 95.27);
  const fg = figure('fgsm', 'accuracy', (k) => k.dataset === 'svhn' && k.mode === 'manifold');
  assert.deepEqual([fg.mean, fg.key.arch, fg.condition.kind], [65.91, 'wrn28_10', 'fgsm']);
  const v3 = figure('v3-table1', 'nll', (k) => k.arch === 'preactresnet152' && k.alpha === 6);
  assert.deepEqual([v3.mean, v3.key.layers, v3.source.version], [0.0957, [0, 1, 2, 3], 'v3']);
  assert.equal(paperFigures().filter((f) => f.table === 'deformations').length, 32);
  assert.equal(figure('regularizers', 'error', (k) => k.mode === 'manifold').mean, 3.77);
  assert.equal(paperFigures().filter((f) => f.table === 'semi-supervised').length, 6);
});

test('every table: one cell per (row, column) per panel, and every figure sourced', () => {
  for (const id of TABLE_IDS) {
    const t = PAPER_TABLES[id];
    assert.equal(t.id, id);
    assert.ok(t.panels.length > 0);
    for (const p of t.panels) {
      const seen = new Set(p.cells.map((c) => `${c.row}\u0000${c.col}`));
      assert.equal(seen.size, p.cells.length, `${id} ${p.title}: a repeated cell`);
      for (const c of p.cells) assert.ok(p.rows.includes(c.row) && p.cols.includes(c.col));
    }
  }
  for (const f of paperFigures()) assert.ok(f.source.table && ['v3', 'v7', 'unstated'].includes(f.source.version));
});

test('tableRunKeys: the distinct runnable rows of a table', () => {
  const keys = tableRunKeys('table1a');
  assert.equal(keys.length, 9);
  assert.equal(new Set(keys.map(keyId)).size, 9);
  // FGSM's PGD column and semi-supervised rows are variants no run can produce.
  assert.equal(tableRunKeys('fgsm').length, 9);
  assert.equal(tableRunKeys('semi-supervised').length, 0);
  assert.equal(tableRunKeys('table5').length, 20);
});

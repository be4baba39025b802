/** Mean ± sample std against hand-computed values, and which runs may share a row. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attackId, groupRuns, groupStat, meanStd } from '../../src/report/aggregate.js';
import { canonicalKey, type RunKey } from '../../src/report/paper.js';
import type { Recipe, RunRecord } from '../../src/report/runs.js';
import { formatDelta, formatStat } from '../../src/report/tables.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('mean and sample std (n − 1), hand-computed', () => {
  // 5.0, 5.2, 4.9: mean 15.1/3 = 5.03333…; squared deviations 1/900 + 25/900 + 16/900 = 42/900; /2 → std = √(21/900) = 0.152753
  const s = meanStd([5.0, 5.2, 4.9])!;
  assert.equal(s.n, 3);
  close(s.mean, 15.1 / 3);
  close(s.std!, Math.sqrt(21 / 900));
  close(s.std!, 0.1527525232, 1e-9);
  // 3.8, 3.9: std = |a − b| / √2 = 0.0707107
  close(meanStd([3.8, 3.9])!.std!, 0.1 / Math.SQRT2);
  // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sum of squares 32, sample std √(32/7)
  close(meanStd([2, 4, 4, 4, 5, 5, 7, 9])!.std!, Math.sqrt(32 / 7));
});

test('one run has no std (null, shown as —); no runs have no stat', () => {
  assert.deepEqual(meanStd([2.95]), { n: 1, mean: 2.95, std: null });
  assert.equal(meanStd([]), null);
  assert.equal(formatStat(meanStd([2.95]), 'error'), '2.95 ± — (n=1)');
  assert.equal(formatStat(meanStd([5.0, 5.2, 4.9]), 'error'), '5.03 ± 0.153 (n=3)');
  assert.equal(formatStat(meanStd([0.2, 0.19, 0.18]), 'nll'), '0.190 ± 0.010 (n=3)');
  assert.equal(formatStat(null, 'nll'), '—');
  assert.equal(formatDelta(0.2033, 'error'), '+0.20');
  assert.equal(formatDelta(-0.1, 'error'), '-0.10');
  assert.equal(formatDelta(-0.001, 'error'), '+0.00');
  assert.equal(formatDelta(null, 'error'), '—');
});

const RECIPE: Recipe = { width: 64, epochs: 1200, milestones: [400, 800], gamma: 0.1, loss: 'bce', batch_size: 100, lr: 0.1, weight_decay: 1e-4, train_limit: null, test_limit: null };
const KEY: RunKey = { dataset: 'cifar10', arch: 'preactresnet18', mode: 'manifold', alpha: 2, layers: [0, 1, 2] };

function run(seed: number, err: number, key: Partial<RunKey> = {}, recipe: Partial<Recipe> = {}, endTime = '2026-01-01'): RunRecord {
  const f = { test_acc: 1 - err, test_err: err, test_nll: 0.1 };
  return {
    dir: `/runs/${seed}-${JSON.stringify(key)}-${JSON.stringify(recipe)}-${endTime}`, id: `r${seed}`, seed,
    key: canonicalKey({ ...KEY, ...key }), recipe: { ...RECIPE, ...recipe },
    final: f, best: { ...f, epoch: 1 }, curve: [], adversarial: [], endTime,
  };
}

test('runs group only when dataset, arch, mode, α, layers and recipe all agree', () => {
  const runs = [
    run(0, 0.03), run(1, 0.04),
    run(0, 0.5, { alpha: 1 }),
    run(0, 0.5, { layers: [0, 1] }),
    run(0, 0.5, { layers: [2, 1, 0] }, {}, '2025-01-01'), // the same set in another order: the first group, as an older repeat of seed 0
    run(0, 0.5, { dataset: 'cifar100' }),
    run(0, 0.5, { arch: 'preactresnet34' }),
    run(0, 0.5, {}, { epochs: 2000, milestones: [500, 1000, 1500] }),
    run(0, 0.5, {}, { milestones: [300, 600] }),
    run(0, 0.5, {}, { loss: 'ce' }),
    run(0, 0.5, {}, { batch_size: 128 }),
    run(0, 0.5, {}, { width: 16 }),
    run(0, 0.5, {}, { train_limit: 1000 }),
  ];
  const { groups, duplicates } = groupRuns(runs);
  assert.equal(groups.length, runs.length - 2);
  const main = groups.find((g) => g.key.alpha === 2 && g.key.layers.join() === '0,1,2' && g.key.dataset === 'cifar10' && g.key.arch === 'preactresnet18' && g.recipe.epochs === 1200 && g.recipe.milestones.join() === '400,800' && g.recipe.loss === 'bce' && g.recipe.batch_size === 100 && g.recipe.width === 64 && g.recipe.train_limit === null)!;
  assert.deepEqual(main.runs.map((r) => r.seed), [0, 1]);
  assert.equal(duplicates.length, 1);
  const stat = groupStat(main, 'error', { kind: 'clean' }, 'final')!;
  assert.equal(stat.n, 2);
  close(stat.mean, 3.5);
});

test('a repeated seed counts once: the run that finished last', () => {
  const { groups, duplicates } = groupRuns([run(0, 0.9, {}, {}, '2025-06-01'), run(0, 0.03, {}, {}, '2026-06-01'), run(1, 0.05)]);
  assert.equal(groups.length, 1);
  assert.deepEqual(groups[0].runs.map((r) => r.final.test_err), [0.03, 0.05]);
  assert.equal(duplicates.length, 1);
  assert.match(duplicates[0].reason, /seed 0 also in .*2026-06-01, which finished later/);
  assert.match(duplicates[0].dir, /2025-06-01/);
});

test('S = {0} is Input Mixup and S = {} is no mixup: they share rows with those modes', () => {
  const { groups } = groupRuns([run(0, 0.1, { mode: 'input', alpha: 2, layers: [0] }), run(1, 0.2, { layers: [0] })]);
  assert.equal(groups.length, 1);
  assert.equal(groups[0].key.mode, 'input');
  assert.deepEqual(canonicalKey({ ...KEY, layers: [] }), { dataset: 'cifar10', arch: 'preactresnet18', mode: 'none', alpha: null, layers: [] });
});

test('FGSM results average per attack setting only', () => {
  const a = run(0, 0.1);
  const b = run(1, 0.1);
  const setting = { attack: 'fgsm', eps: 0.03, space: 'normalized', clip: false, loss: 'bce', clean_accuracy: 0.9, checkpoint: 'last' } as const;
  a.adversarial = [{ ...setting, accuracy: 0.7 }, { ...setting, eps: 0.01, accuracy: 0.85 }];
  b.adversarial = [{ ...setting, accuracy: 0.8 }, { ...setting, space: 'pixel', clip: true, accuracy: 0.2 }];
  const { groups } = groupRuns([a, b]);
  const fgsm = { kind: 'fgsm' } as const;
  const s = groupStat(groups[0], 'accuracy', fgsm, 'final', attackId(setting))!;
  assert.equal(s.n, 2);
  close(s.mean, 75);
  close(s.std!, 10 / Math.SQRT2);
  assert.equal(groupStat(groups[0], 'accuracy', fgsm, 'final', attackId({ ...setting, eps: 0.01 }))!.n, 1);
  assert.equal(groupStat(groups[0], 'accuracy', fgsm, 'best', attackId(setting)), null, 'no run attacked its best-epoch weights');
  b.adversarial.push({ ...setting, checkpoint: 'best', accuracy: 0.9 });
  assert.deepEqual(groupStat(groups[0], 'accuracy', fgsm, 'best', attackId(setting)), { n: 1, mean: 90, std: null });
  assert.equal(groupStat(groups[0], 'accuracy', fgsm, 'final', attackId(setting))!.n, 2);
  assert.equal(attackId(setting), 'FGSM ε=0.03 normalized unclipped bce');
  assert.equal(attackId({ ...setting, eps: 8 / 255, space: 'pixel' }), 'FGSM ε=8/255 pixel unclipped bce');
  assert.equal(attackId({ ...setting, eps: 8 / 255 }), 'FGSM ε=0.0313725 normalized unclipped bce');
});

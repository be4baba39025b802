/** Finding and reading run directories; what is skipped and why. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRunDirs, loadRuns } from '../../src/report/runs.js';
import { UsageError } from '../../src/runtime/errors.js';
import { writeFakeRun } from './fake-runs.js';

test('finds run directories recursively; a root that is a run directory counts', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-find-'));
  const a = writeFakeRun(root, 'a', {});
  const b = writeFakeRun(root, 'deep/er/b', {});
  mkdirSync(join(a, 'checkpoint'));
  writeFileSync(join(a, 'checkpoint', 'run.json'), '{}'); // inside a run dir: not another run
  mkdirSync(join(root, 'empty'));
  assert.deepEqual(findRunDirs([root]), [a, b].sort());
  assert.deepEqual(findRunDirs([b]), [b]);
  assert.deepEqual(findRunDirs([root, a]), [a, b].sort(), 'no run listed twice');
  assert.throws(() => findRunDirs([join(root, 'nope')]), UsageError);
});

test('reads key, recipe, figures, curve and FGSM results of a finished run', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-read-'));
  writeFakeRun(root, 'r', {
    dataset: 'svhn', arch: 'wrn28_10', mode: 'manifold', alpha: 2, layers: [2, 0, 1], seed: 4, width: 10, epochs: 3, milestones: [1, 2], loss: 'ce', trainLimit: 500,
    final: { err: 0.02, nll: 0.1 }, best: { err: 0.019, nll: 0.11, epoch: 2 }, curve: [[1, 0.5, 1], [0.5, 0.1, 0.4], [0.4, 0.02, 0.1]],
    adversarial: [{ eps: 0.03, space: 'normalized', clip: false, loss: 'bce', accuracy: 0.6 }, { eps: 0.03, space: 'normalized', clip: false, loss: 'bce', accuracy: 0.05, attack: 'pgd' }],
    attacked: 'best',
  });
  const { runs, skipped, warnings } = loadRuns([root]);
  assert.deepEqual([skipped, warnings], [[], []]);
  const [r] = runs;
  assert.deepEqual(r.key, { dataset: 'svhn', arch: 'wrn28_10', mode: 'manifold', alpha: 2, layers: [0, 1, 2] });
  assert.deepEqual(r.recipe, { width: 10, epochs: 3, milestones: [1, 2], gamma: 0.1, loss: 'ce', batch_size: 100, lr: 0.1, weight_decay: 0.0001, train_limit: 500, test_limit: null });
  assert.equal(r.seed, 4);
  assert.deepEqual(r.final, { test_acc: 0.98, test_err: 0.02, test_nll: 0.1 });
  assert.equal(r.best.epoch, 2);
  assert.deepEqual(r.curve.map((p) => p.test_err), [0.5, 0.1, 0.02]);
  assert.deepEqual(r.adversarial, [{ eps: 0.03, space: 'normalized', clip: false, loss: 'bce', attack: 'fgsm', accuracy: 0.6, clean_accuracy: 0.98, checkpoint: 'best' }], 'FGSM rows only');
});

test('only done runs count; every other run is skipped with its reason', () => {
  const root = mkdtempSync(join(tmpdir(), 'report-skip-'));
  writeFakeRun(root, 'ok', {});
  writeFakeRun(root, 'failed', { status: 'failed' });
  writeFakeRun(root, 'running', { status: 'running' });
  writeFakeRun(root, 'interrupted', { status: 'interrupted' });
  writeFakeRun(root, 'nosummary', { noSummary: true });
  const torn = writeFakeRun(root, 'torn', {});
  writeFileSync(join(torn, 'run.json'), '{"status": "do');
  const badAdv = writeFakeRun(root, 'badadv', { seed: 1 });
  writeFileSync(join(badAdv, 'adversarial.json'), JSON.stringify({ results: [{ attack: 'fgsm', eps: 0.03, space: 'sideways' }] }));
  const { runs, skipped, warnings } = loadRuns([root]);
  assert.deepEqual(runs.map((r) => r.id).sort(), ['badadv', 'ok']);
  const why = Object.fromEntries(skipped.map((s) => [s.dir.slice(root.length + 1), s.reason]));
  assert.equal(why.failed, 'status failed');
  assert.equal(why.running, 'status running');
  assert.equal(why.interrupted, 'status interrupted');
  assert.equal(why.nosummary, 'no summary.json');
  assert.match(why.torn, /^run\.json is not valid JSON/);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /badadv: adversarial\.json results\[0\]\.space missing or malformed; its FGSM figures are left out/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSeeds, parseShard, parseTable, planTable, rowConfig, shardOf } from '../../src/reproduce/plan.js';
import { tableRunKeys } from '../../src/report/paper.js';
import { UsageError } from '../../src/runtime/errors.js';

test('table1a expands into its 9 rows × seeds, each with a fixed run directory', () => {
  const runs = planTable('table1a', 'paper', [0, 1], '/r', []);
  assert.equal(runs.length, 18);
  assert.equal(new Set(runs.map((r) => r.dir)).size, 18);
  const m = runs.find((r) => r.key.arch === 'preactresnet18' && r.key.mode === 'manifold' && r.seed === 1)!;
  assert.equal(m.dir, '/r/table1a/paper/cifar10-preactresnet18-manifold-a2-L012/seed1');
  const c = m.loaded.config;
  assert.equal(c.dataset.name, 'cifar10');
  assert.deepEqual(c.mixup, { mode: 'manifold', alpha: 2, layers: [0, 1, 2], per_example: false });
  assert.equal(c.seed, 1);
  // The paper text's schedule (SPEC §4): 1200 epochs, ×0.1 at 400 and 800; batch 100.
  assert.equal(c.train.epochs, 1200);
  assert.deepEqual(c.train.milestones, [400, 800]);
  assert.equal(c.train.batch_size, 100);
  assert.equal(c.model.width, 64);
  const wrn = runs.find((r) => r.key.arch === 'wrn28_10')!.loaded.config;
  assert.equal(wrn.train.epochs, 400);
  assert.deepEqual(wrn.train.milestones, [200, 300]);
});

test('short divides the schedule by 10; smoke shrinks everything onto the shipped subset', () => {
  const k = tableRunKeys('table1a')[0];
  const short = rowConfig('table1a', k, 'short', 0) as { train: { epochs: number; milestones: number[] } };
  assert.equal(short.train.epochs, 120);
  assert.deepEqual(short.train.milestones, [40, 80]);
  const smoke = planTable('table1a', 'smoke', [0], '/r', [])[0].loaded.config;
  assert.equal(smoke.dataset.name, 'fashion-mnist-subset');
  assert.equal(smoke.dataset.train_limit, 200);
  assert.equal(smoke.model.width, 2);
  assert.equal(smoke.train.epochs, 1);
});

test('--set applies to every run and is validated', () => {
  const runs = planTable('table1a', 'smoke', [0], '/r', [{ path: ['train', 'epochs'], value: 2, text: 'train.epochs=2' }]);
  assert.ok(runs.every((r) => r.loaded.config.train.epochs === 2));
  assert.throws(() => planTable('table1a', 'smoke', [0], '/r', [{ path: ['train', 'epochs'], value: 0, text: 'train.epochs=0' }]), /train\.epochs/);
});

test('shards partition the table whatever is already done', () => {
  const runs = planTable('table5', 'paper', [0, 1, 2], '/r', []);
  const shards = [0, 1, 2, 3].map((i) => shardOf(runs, { index: i, count: 4 }));
  assert.equal(shards.flat().length, runs.length);
  assert.equal(new Set(shards.flat().map((r) => r.dir)).size, runs.length);
  assert.deepEqual(parseShard('3/4'), { index: 3, count: 4 });
  for (const bad of ['4/4', '1', 'a/b', '1/0']) assert.throws(() => parseShard(bad), UsageError);
});

test('table names and seed lists are checked', () => {
  assert.equal(parseTable('table5'), 'table5');
  assert.throws(() => parseTable('table9'), /unknown table 'table9'.*table1a/);
  assert.deepEqual(parseSeeds('0,1, 2'), [0, 1, 2]);
  assert.throws(() => parseSeeds('0,x'), UsageError);
  assert.throws(() => parseSeeds('1,1'), /twice/);
});

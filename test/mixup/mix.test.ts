import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mixedTargets, mixExamplesAt, mixHidden, mixMatrix, sampleMix, type ExampleMix, type MixSample } from '../../src/mixup/mix.js';
import { Rng } from '../../src/runtime/rng.js';
import { maxAbsDiff, randomArray, tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

test('mixed targets are λ·y + (1−λ)·y[π], by hand', () => {
  const labels = Int32Array.from([0, 2, 1]);
  const s = { layer: 0, lambda: 0.7, perm: Int32Array.from([2, 0, 1]) };
  // row 0: 0.7·e0 + 0.3·e1; row 1: 0.7·e2 + 0.3·e0; row 2: 0.7·e1 + 0.3·e2
  const want = [0.7, 0.3, 0, 0.3, 0, 0.7, 0, 0.7, 0.3];
  assert.ok(maxAbsDiff(mixedTargets(labels, 3, s), want) < 1e-7);
  // A self-pair keeps its one-hot target whole.
  const self = mixedTargets(Int32Array.from([1]), 3, { layer: 0, lambda: 0.4, perm: Int32Array.from([0]) });
  assert.ok(maxAbsDiff(self, [0, 1, 0]) < 1e-7);
  assert.deepEqual([...mixedTargets(labels, 3, null)], [1, 0, 0, 0, 0, 1, 0, 1, 0]);
});

test('mixing hidden states is λ·h + (1−λ)·h[π], by hand', () => {
  const h = tf.tensor2d([[1, 2], [3, 4], [5, 6]]);
  const out = mixHidden(h, { layer: 1, lambda: 0.25, perm: Int32Array.from([1, 2, 0]) });
  // row i: 0.25·h[i] + 0.75·h[π(i)]
  const want = [0.25 * 1 + 0.75 * 3, 0.25 * 2 + 0.75 * 4, 0.25 * 3 + 0.75 * 5, 0.25 * 4 + 0.75 * 6, 0.25 * 5 + 0.75 * 1, 0.25 * 6 + 0.75 * 2];
  assert.ok(maxAbsDiff(out.dataSync(), want) < 1e-6);
  tf.dispose([h, out]);
});

test('the mixing matrix: a_i on the diagonal, 1 − a_i at the partner, exactly 1 for a self-pair', () => {
  const m = mixMatrix([0.25, 0.6, 0.9], Int32Array.from([1, 0, 2]));
  assert.deepEqual([...m], [0.25, 0.75, 0, Math.fround(0.4), Math.fround(0.6), 0, 0, 0, 1]);
});

test('the gradient of row mixing equals autodiff of λ·h + (1−λ)·gather(h, π)', () => {
  const perm = Int32Array.from([3, 0, 2, 1]);
  const x = tf.tensor3d(randomArray(4 * 3 * 2, 5), [4, 3, 2]);
  const w = tf.tensor3d(randomArray(4 * 3 * 2, 6), [4, 3, 2]);
  const s = { layer: 1, lambda: 0.35, perm };
  const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(mixHidden(v, s), w)))(x);
  const ref = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.mul(v, 0.35), tf.mul(tf.gather(v, tf.tensor1d(perm, 'int32')), 0.65)), w)))(x);
  assert.ok(maxAbsDiff(ours.dataSync(), ref.dataSync()) < 1e-6);
  tf.dispose([x, w, ours, ref]);
});

test('sampleMix draws k from the eligible set, λ in [0,1] and a permutation', () => {
  const r = new Rng(0, 'mixup');
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) {
    const s = sampleMix(r, { mode: 'manifold', alpha: 2, layers: [0, 2, 3] }, 6) as MixSample;
    seen.add(s.layer);
    assert.ok(s.lambda >= 0 && s.lambda <= 1);
    assert.deepEqual([...s.perm].sort(), [0, 1, 2, 3, 4, 5]);
  }
  assert.deepEqual([...seen].sort(), [0, 2, 3]);
  assert.equal(sampleMix(r, { mode: 'none', alpha: null, layers: [] }, 6), null);
  assert.equal((sampleMix(r, { mode: 'input', alpha: 1, layers: [0] }, 4) as MixSample).layer, 0);
});

test('per-example draws: each example has its own k and λ, and its partner shares its k', () => {
  const r = new Rng(3, 'mixup');
  const s = sampleMix(r, { mode: 'manifold', alpha: 2, layers: [0, 1, 2], per_example: true }, 64) as ExampleMix;
  assert.deepEqual([...s.perm].sort((a, b) => a - b), Array.from({ length: 64 }, (_, i) => i));
  for (let i = 0; i < 64; i++) assert.equal(s.layers[s.perm[i]], s.layers[i], `partner of ${i} mixes at another layer`);
  assert.deepEqual([...new Set(s.layers)].sort(), [0, 1, 2]);
  assert.ok(new Set(s.lambdas).size > 60, 'λ drawn per example');
});

test('per-example mixing at a boundary changes only the examples drawn for it, by hand', () => {
  const h = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
  const s: ExampleMix = { layers: Int32Array.from([1, 2, 1, 2]), lambdas: Float32Array.from([0.25, 0.5, 0.75, 0.1]), perm: Int32Array.from([2, 3, 0, 1]) };
  const at1 = mixExamplesAt(h, s, 1).dataSync();
  // rows 0 and 2 mix with each other at layer 1; rows 1 and 3 pass unchanged.
  const want = [0.25 * 1 + 0.75 * 5, 0.25 * 2 + 0.75 * 6, 3, 4, 0.75 * 5 + 0.25 * 1, 0.75 * 6 + 0.25 * 2, 7, 8];
  assert.ok(maxAbsDiff(at1, want) < 1e-6, `${at1}`);
  // Targets use each example's own λ.
  const y = mixedTargets(Int32Array.from([0, 1, 2, 0]), 3, s);
  assert.ok(maxAbsDiff(y, [0.25, 0, 0.75, 0.5, 0.5, 0, 0.25, 0, 0.75, 0.1, 0.9, 0]) < 1e-6, `${y}`);
  h.dispose();
});

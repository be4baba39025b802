import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/runtime/rng.js';

function moments(draw: () => number, n: number) {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = draw();
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { mean, variance: s2 / n - mean * mean };
}

test('same seed and stream give the same numbers; streams differ', () => {
  const a = new Rng(7, 'mixup');
  const b = new Rng(7, 'mixup');
  const c = new Rng(7, 'order');
  const xs = Array.from({ length: 5 }, () => a.nextU32());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.nextU32()));
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => c.nextU32()));
});

test('restoring a saved state continues the same sequence', () => {
  const a = new Rng(3, 's');
  for (let i = 0; i < 10; i++) a.uniform();
  const saved = a.state();
  const next = [a.uniform(), a.beta(2, 2), a.int(10)];
  const b = Rng.fromState(saved);
  assert.deepEqual([b.uniform(), b.beta(2, 2), b.int(10)], next);
});

test('uniform has mean 1/2 and variance 1/12', () => {
  const r = new Rng(1, 'u');
  const { mean, variance } = moments(() => r.uniform(), 200_000);
  assert.ok(Math.abs(mean - 0.5) < 0.003, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 0.001, `variance ${variance}`);
});

test('Gamma(k) has mean k and variance k, for k below and above 1', () => {
  for (const k of [0.2, 1, 2.5]) {
    const r = new Rng(11, `g${k}`);
    const { mean, variance } = moments(() => r.gamma(k), 200_000);
    assert.ok(Math.abs(mean - k) < 0.02 * Math.max(1, k), `k=${k} mean ${mean}`);
    assert.ok(Math.abs(variance - k) < 0.05 * Math.max(1, k), `k=${k} variance ${variance}`);
  }
});

test('Beta(α, α) has mean 1/2 and variance 1/(4(2α+1)), in [0, 1]', () => {
  for (const alpha of [0.2, 1, 2]) {
    const r = new Rng(5, `b${alpha}`);
    const n = 200_000;
    let min = 1;
    let max = 0;
    const { mean, variance } = moments(() => {
      const v = r.beta(alpha, alpha);
      min = Math.min(min, v);
      max = Math.max(max, v);
      return v;
    }, n);
    const want = 1 / (4 * (2 * alpha + 1));
    // Standard error of the mean is sqrt(var/n) ≈ 0.001; allow 4 of them.
    assert.ok(Math.abs(mean - 0.5) < 0.004, `α=${alpha} mean ${mean}`);
    assert.ok(Math.abs(variance - want) / want < 0.02, `α=${alpha} variance ${variance}, want ${want}`);
    assert.ok(min >= 0 && max <= 1);
  }
});

test('Beta(a, b) with a ≠ b has mean a/(a+b)', () => {
  const r = new Rng(9, 'ab');
  const { mean } = moments(() => r.beta(2, 5), 100_000);
  assert.ok(Math.abs(mean - 2 / 7) < 0.003, `mean ${mean}`);
});

test('permutations are permutations and every position is uniform', () => {
  const r = new Rng(2, 'perm');
  const n = 5;
  const counts = Array.from({ length: n }, () => new Array(n).fill(0));
  const trials = 50_000;
  for (let t = 0; t < trials; t++) {
    const p = r.permutation(n);
    assert.deepEqual([...p].sort(), [0, 1, 2, 3, 4]);
    p.forEach((v, i) => counts[i][v]++);
  }
  for (const row of counts) for (const c of row) assert.ok(Math.abs(c / trials - 1 / n) < 0.01, `frequency ${c / trials}`);
});

test('int(n) is unbiased and in range', () => {
  const r = new Rng(4, 'int');
  const counts = new Array(3).fill(0);
  for (let i = 0; i < 60_000; i++) counts[r.int(3)]++;
  for (const c of counts) assert.ok(Math.abs(c / 60_000 - 1 / 3) < 0.01);
  assert.throws(() => r.int(0), RangeError);
});

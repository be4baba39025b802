import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { bceOnSoftmax, nllPerExample, softCrossEntropy } from '../../src/train/loss.js';
import { tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
};

const logits = [[1, 2, 0.5], [-1, 0, 3]];
const target = [[0.6, 0.4, 0], [0, 0, 1]];

test('BCE on softmax, mean over batch × classes, by hand', () => {
  let sum = 0;
  logits.forEach((z, i) => {
    softmax(z).forEach((p, c) => {
      const y = target[i][c];
      sum += -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
    });
  });
  const want = sum / 6;
  const got = bceOnSoftmax(tf.tensor2d(logits), tf.tensor2d(target)).dataSync()[0];
  assert.ok(Math.abs(got - want) < 1e-6, `${got} vs ${want}`);
});

test('BCE clamps log at −100 like PyTorch, and its gradient stays finite', () => {
  // p = softmax([200, 0]) = [1, 0] exactly in float32: log(0) would be −∞.
  const z = tf.tensor2d([[200, 0]]);
  const y = tf.tensor2d([[0.5, 0.5]]);
  const loss = bceOnSoftmax(z, y).dataSync()[0];
  // Terms: −[0.5·0 + 0.5·(−100)] − [0.5·(−100) + 0.5·0] = 100, mean over 2 classes = 50.
  assert.ok(Math.abs(loss - 50) < 1e-4, `loss ${loss}`);
  const g = tf.grad((v: tf.Tensor) => bceOnSoftmax(v as tf.Tensor2D, y))(z).dataSync();
  assert.ok([...g].every(Number.isFinite), `gradient ${g}`);
});

test('soft-target cross-entropy, mean over the batch, by hand', () => {
  let sum = 0;
  logits.forEach((z, i) => softmax(z).forEach((p, c) => (sum -= target[i][c] * Math.log(p))));
  const got = softCrossEntropy(tf.tensor2d(logits), tf.tensor2d(target)).dataSync()[0];
  assert.ok(Math.abs(got - sum / 2) < 1e-6);
});

test('test NLL is −log softmax of the true class, per example', () => {
  const got = nllPerExample(tf.tensor2d(logits), tf.tensor1d([1, 0], 'int32')).dataSync();
  const want = [-Math.log(softmax(logits[0])[1]), -Math.log(softmax(logits[1])[0])];
  assert.ok(Math.abs(got[0] - want[0]) < 1e-6 && Math.abs(got[1] - want[1]) < 1e-5);
});

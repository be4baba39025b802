import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { learningRate, Sgd } from '../../src/train/optimizer.js';
import { tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

test('SGD with Nesterov momentum and coupled weight decay matches torch.optim.SGD by hand', () => {
  const p = tf.variable(tf.tensor1d([1, -2]));
  const opt = new Sgd(new Map([['w', p]]), { momentum: 0.9, nesterov: true, weight_decay: 0.1 });
  const lr = 0.5;
  // Hand computation of PyTorch's update for two steps with gradients g1, g2.
  let w = [1, -2];
  let buf = [0, 0];
  for (const grad of [[0.3, 0.1], [-0.2, 0.4]]) {
    const g = grad.map((v, i) => v + 0.1 * w[i]);
    buf = buf.map((b, i) => 0.9 * b + g[i]);
    const step = g.map((v, i) => v + 0.9 * buf[i]);
    w = w.map((v, i) => v - lr * step[i]);
    opt.step(new Map([['w', tf.tensor1d(grad)]]), lr);
  }
  const got = p.dataSync();
  assert.ok(Math.abs(got[0] - w[0]) < 1e-6 && Math.abs(got[1] - w[1]) < 1e-6, `${got} vs ${w}`);
  opt.dispose();
  p.dispose();
});

test('plain momentum (no Nesterov) uses the buffer as the step', () => {
  const p = tf.variable(tf.scalar(1));
  const opt = new Sgd(new Map([['w', p]]), { momentum: 0.5, nesterov: false, weight_decay: 0 });
  opt.step(new Map([['w', tf.scalar(1)]]), 1); // buf 1, w 0
  opt.step(new Map([['w', tf.scalar(1)]]), 1); // buf 1.5, w −1.5
  assert.ok(Math.abs(p.dataSync()[0] + 1.5) < 1e-6);
  opt.dispose();
  p.dispose();
});

test('step schedule multiplies by gamma at each milestone reached (epochs from 0)', () => {
  const ms = [400, 800];
  assert.equal(learningRate(0, 0.1, ms, 0.1), 0.1);
  assert.equal(learningRate(399, 0.1, ms, 0.1), 0.1);
  assert.ok(Math.abs(learningRate(400, 0.1, ms, 0.1) - 0.01) < 1e-12);
  assert.ok(Math.abs(learningRate(1199, 0.1, ms, 0.1) - 0.001) < 1e-12);
});

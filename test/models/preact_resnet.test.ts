import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNorm, batchNormRelu, updateRunningStats, type BatchStats } from '../../src/models/layers.js';
import { createModel } from '../../src/models/registry.js';
import { ParamStore } from '../../src/models/params.js';
import { mixHidden, mixedTargets } from '../../src/mixup/mix.js';
import { bceOnSoftmax } from '../../src/train/loss.js';
import { Rng } from '../../src/runtime/rng.js';
import { maxAbsDiff, randomArray, tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

test('PreActResNet18 has the reference parameter counts (SPEC §2)', () => {
  for (const [classes, want] of [[10, 11_171_146], [100, 11_217_316]]) {
    const m = createModel('preactresnet18', { inputShape: [32, 32, 3], classes, width: 64, finalBn: false }, 0);
    assert.equal(m.params.countTrainable(), want);
    m.params.dispose();
  }
});

test('parameters carry the PyTorch module paths, in registration order', () => {
  const m = createModel('preactresnet18', { inputShape: [32, 32, 3], classes: 10, width: 4, finalBn: false }, 0);
  const names = [...m.params.trainable.keys()];
  assert.deepEqual(names.slice(0, 7), [
    'conv1.weight', 'layer1.0.bn1.weight', 'layer1.0.bn1.bias', 'layer1.0.conv1.weight',
    'layer1.0.bn2.weight', 'layer1.0.bn2.bias', 'layer1.0.conv2.weight',
  ]);
  assert.ok(names.includes('layer2.0.shortcut.0.weight'));
  assert.ok(!names.includes('layer1.0.shortcut.0.weight'));
  assert.deepEqual(names.slice(-2), ['linear.weight', 'linear.bias']);
  assert.ok(m.params.buffers.has('layer4.1.bn2.running_var'));
  assert.deepEqual(m.params.trainable.get('conv1.weight')!.shape, [3, 3, 3, 4]);
  m.params.dispose();
});

test('init follows PyTorch: conv weights U(±1/√fan_in), BN γ=1 β=0', () => {
  const m = createModel('preactresnet18', { inputShape: [32, 32, 3], classes: 10, width: 16, finalBn: false }, 1);
  const w = Array.from(m.params.trainable.get('layer2.0.conv1.weight')!.dataSync()); // fan_in 16·9
  const bound = 1 / Math.sqrt(16 * 9);
  const max = w.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
  assert.ok(max <= bound && max > 0.95 * bound, `max |w| ${max}, bound ${bound}`);
  const variance = w.reduce((a, v) => a + v * v, 0) / w.length;
  assert.ok(Math.abs(variance - bound ** 2 / 3) / (bound ** 2 / 3) < 0.05, `variance of U(±b) is b²/3`);
  assert.ok(m.params.trainable.get('layer1.0.bn1.weight')!.dataSync().every((v) => v === 1));
  m.params.dispose();
});

test('the same seed gives the same weights', () => {
  const opts = { inputShape: [28, 28, 1] as [number, number, number], classes: 10, width: 4, finalBn: false };
  const a = createModel('preactresnet18', opts, 5);
  const b = createModel('preactresnet18', opts, 5);
  for (const [name, v] of a.params.trainable) assert.deepEqual(v.dataSync(), b.params.trainable.get(name)!.dataSync());
  a.params.dispose();
  b.params.dispose();
});

test('a 28×28 input reaches a 4×4 final map and 10 logits', () => {
  const m = createModel('preactresnet18', { inputShape: [28, 28, 1], classes: 10, width: 4, finalBn: true }, 0);
  const logits = m.forward(tf.zeros([2, 28, 28, 1]), { training: false });
  assert.deepEqual(logits.shape, [2, 10]);
  logits.dispose();
  m.params.dispose();
});

function bnReference(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor) {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), gamma), beta);
}

test('training BatchNorm-ReLU: forward and fused closed-form backward equal autodiff of the textbook formula', () => {
  const store = new ParamStore(new Rng(0));
  const bn = store.batchNorm('bn', 3);
  // Mixed signs of γ and β so that the ReLU cuts a good share of every channel.
  bn.gamma.assign(tf.tensor1d([0.5, 1.5, -1]));
  bn.beta.assign(tf.tensor1d([0.1, 0, -0.3]));
  const x = tf.tensor4d(randomArray(2 * 4 * 5 * 3, 1, 2), [2, 4, 5, 3]);
  const w = tf.tensor4d(randomArray(2 * 4 * 5 * 3, 2), [2, 4, 5, 3]);
  const stats: BatchStats[] = [];
  const ours = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(batchNormRelu(a as tf.Tensor4D, { ...bn, gamma: g as tf.Variable, beta: b as tf.Variable }, { training: true, stats }), w)),
  )([x, bn.gamma, bn.beta]);
  const ref = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.relu(bnReference(a as tf.Tensor4D, g, b)), w)))([x, bn.gamma, bn.beta]);
  ours.forEach((g, i) => assert.ok(maxAbsDiff(g.dataSync(), ref[i].dataSync()) < 1e-4, `gradient ${i}`));
  const y = batchNormRelu(x, bn, { training: true, stats });
  const yRef = tf.relu(bnReference(x, bn.gamma, bn.beta)).dataSync();
  assert.ok(maxAbsDiff(y.dataSync(), yRef) < 1e-5);
  const cut = yRef.filter((v) => v === 0).length / yRef.length;
  assert.ok(cut > 0.2 && cut < 0.8, `ReLU cuts ${cut}`);
  // Batch statistics are recorded once per call, for the running averages.
  assert.equal(stats.length, 2);
  stats.length = 0;
  store.dispose();
});

test('running statistics: momentum 0.1, unbiased variance; eval mode uses them', () => {
  const store = new ParamStore(new Rng(0));
  const bn = store.batchNorm('bn', 1);
  // One channel, values 1..4: mean 2.5, biased var 1.25, unbiased var 5/3.
  const x = tf.tensor4d([1, 2, 3, 4], [4, 1, 1, 1]);
  const stats: BatchStats[] = [];
  batchNormRelu(x, bn, { training: true, stats }).dispose();
  updateRunningStats(stats);
  assert.ok(Math.abs(bn.runningMean.dataSync()[0] - 0.25) < 1e-6);
  assert.ok(Math.abs(bn.runningVar.dataSync()[0] - (0.9 + 0.1 * (5 / 3))) < 1e-6);
  const y = batchNorm(tf.tensor4d([1], [1, 1, 1, 1]), bn, { training: false }).dataSync()[0];
  assert.ok(Math.abs(y - (1 - 0.25) / Math.sqrt(0.9 + 0.5 / 3 + 1e-5)) < 1e-5);
  store.dispose();
});

test('mixing at layer k equals running the network to k, mixing by hand, and continuing', () => {
  const m = createModel('preactresnet18', { inputShape: [8, 8, 1], classes: 3, width: 2, finalBn: false }, 3);
  const x = tf.tensor4d(randomArray(4 * 64, 7), [4, 8, 8, 1]);
  const s = { layer: 2, lambda: 0.3, perm: Int32Array.from([1, 0, 3, 2]) };
  const mixed = m.forward(x, { training: false }, { layer: 2, apply: (h) => mixHidden(h, s) });
  let captured: tf.Tensor4D | undefined;
  m.forward(x, { training: false }, { layer: 2, apply: (h) => (captured = h) });
  const manual = tf.add(tf.mul(captured!, 0.3), tf.mul(tf.gather(captured!, [1, 0, 3, 2]), 0.7)) as tf.Tensor4D;
  const rest = m.forward(x, { training: false }, { layer: 2, apply: () => manual });
  assert.ok(maxAbsDiff(mixed.dataSync(), rest.dataSync()) < 1e-6);
  // Layer 0 mixes the input itself.
  const input = m.forward(x, { training: false }, { layer: 0, apply: (h) => mixHidden(h, { ...s, layer: 0 }) });
  const byHand = m.forward(tf.add(tf.mul(x, 0.3), tf.mul(tf.gather(x, [1, 0, 3, 2]), 0.7)) as tf.Tensor4D, { training: false });
  assert.ok(maxAbsDiff(input.dataSync(), byHand.dataSync()) < 1e-6);
  m.params.dispose();
});

test('gradients of the whole mixed training loss match central finite differences', () => {
  // ReLU kinks make finite differences of a network noisy: a step of 1e-4 rarely crosses one,
  // and is still large enough for float32 losses (noise ≈ 1e-7 / 2e-4 ≈ 5e-4).
  const m = createModel('preactresnet18', { inputShape: [16, 16, 1], classes: 3, width: 4, finalBn: false }, 4);
  const n = 8;
  const x = tf.tensor4d(randomArray(n * 256, 8), [n, 16, 16, 1]);
  const labels = Int32Array.from([0, 1, 2, 1, 0, 2, 2, 1]);
  const s = { layer: 1, lambda: 0.35, perm: Int32Array.from([2, 3, 0, 1, 7, 6, 4, 5]) };
  const target = tf.tensor2d(mixedTargets(labels, 3, s), [n, 3]);
  const loss = () =>
    tf.tidy(() => bceOnSoftmax(m.forward(x, { training: true }, { layer: 1, apply: (h) => mixHidden(h, s) }), target));
  const vars = [...m.params.trainable.values()];
  const { grads } = tf.variableGrads(loss, vars);
  const r = new Rng(1, 'fd');
  let checked = 0;
  // The stem (conv1.weight) is left to the next test: a step that perturbs it moves every
  // ReLU downstream, so its finite differences in float32 are noise-limited.
  for (const name of ['layer1.0.conv1.weight', 'layer1.0.conv2.weight', 'layer2.0.bn1.weight', 'layer3.1.conv1.weight', 'layer2.0.shortcut.0.weight', 'linear.weight', 'linear.bias']) {
    const v = m.params.trainable.get(name)!;
    const g = grads[v.name].dataSync();
    for (let t = 0; t < 3; t++) {
      const i = r.int(v.size);
      const orig = v.dataSync().slice();
      const eps = 1e-4;
      const at = (delta: number) => {
        const w = orig.slice();
        w[i] += delta;
        v.assign(tf.tensor(w, v.shape));
        const l = loss();
        const val = l.dataSync()[0];
        l.dispose();
        return val;
      };
      const fd = (at(eps) - at(-eps)) / (2 * eps);
      v.assign(tf.tensor(orig, v.shape));
      const tol = 1e-3 + 0.05 * Math.abs(fd);
      assert.ok(Math.abs(g[i] - fd) < tol, `${name}[${i}]: analytic ${g[i]}, finite difference ${fd}`);
      checked++;
    }
  }
  assert.equal(checked, 21);
  tf.dispose(Object.values(grads));
  m.params.dispose();
});

test('every parameter gradient equals autodiff through textbook BatchNorm-ReLU and gather-based mixing', () => {
  const m = createModel('preactresnet18', { inputShape: [16, 16, 1], classes: 3, width: 4, finalBn: true }, 9);
  const n = 6;
  const x = tf.tensor4d(randomArray(n * 256, 3), [n, 16, 16, 1]);
  const s = { layer: 2, lambda: 0.6, perm: Int32Array.from([5, 4, 3, 2, 1, 0]) };
  const target = tf.tensor2d(mixedTargets(Int32Array.from([0, 1, 2, 0, 1, 2]), 3, s), [n, 3]);
  const vars = [...m.params.trainable.values()];
  const ours = tf.variableGrads(() => bceOnSoftmax(m.forward(x, { training: true }, { layer: 2, apply: (h) => mixHidden(h, s) }), target), vars);
  const refMix = (h: tf.Tensor4D) => tf.add(tf.mul(h, 0.6), tf.mul(tf.gather(h, tf.tensor1d(s.perm, 'int32')), 0.4)) as tf.Tensor4D;
  const ref = tf.variableGrads(() => bceOnSoftmax(m.forward(x, { training: true, autodiffBatchNorm: true }, { layer: 2, apply: refMix }), target), vars);
  assert.ok(Math.abs(ours.value.dataSync()[0] - ref.value.dataSync()[0]) < 1e-6);
  for (const [name, v] of m.params.trainable) {
    const a = ours.grads[v.name].dataSync();
    const b = ref.grads[v.name].dataSync();
    const scale = Math.max(1e-3, ...Array.from(b, Math.abs));
    assert.ok(maxAbsDiff(a, b) < 1e-4 * scale, `${name}: max difference ${maxAbsDiff(a, b)} at scale ${scale}`);
  }
  m.params.dispose();
});

/**
 * FGSM and PGD against a hand-built linear softmax model, whose input gradient is known in
 * closed form: for logits z = xW + b and p = softmax(z),
 *   CE:  ∂ℓ/∂x = (p − y)·Wᵀ
 *   BCE on softmax (summed over classes): ∂ℓ/∂z_k = Σ_c g_c·p_c(δ_ck − p_k), g_c = −y_c/p_c + (1−y_c)/(1−p_c)
 * and, in pixel space, x = (u − mean)/std, so ∂ℓ/∂u = ∂ℓ/∂x / std.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  attack, attackAccuracy, fgsm, gradientSign, pgd, toModelInput, unboundedPgd,
  type AttackLoss, type AttackSetting, type AttackSpace, type Normalization,
} from '../../src/eval/attacks.js';
import type { Split } from '../../src/data/load.js';
import type { Model } from '../../src/models/model.js';
import { ParamStore } from '../../src/models/params.js';
import { Rng } from '../../src/runtime/rng.js';
import { randomArray, tf, useBackend } from '../helpers/tf.js';

before(() => useBackend('cpu'));

const H = 2, W = 3, C = 2;
const D = H * W * C;
const K = 4;
const NORM: Normalization = { mean: [0.3, 0.6], std: [0.5, 0.25] };

/** A linear softmax classifier on flattened NHWC input, shaped like the project's models. */
function linearModel(weights: Float32Array, bias: Float32Array): Model {
  const params = new ParamStore(new Rng(0, 'linear'));
  const w = tf.variable(tf.tensor2d(weights, [D, K]), false);
  const b = tf.variable(tf.tensor1d(bias), false);
  params.trainable.set('linear.weight', w);
  params.trainable.set('linear.bias', b);
  return {
    arch: 'linear',
    params,
    inputShape: [H, W, C],
    classes: K,
    activationsPerExample: D,
    mixLayers: [],
    forward: (x) => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], D]), w), b) as tf.Tensor2D,
  };
}

/** ∂ℓ/∂x of one example, in float64. */
function analyticGradient(weights: Float32Array, bias: Float32Array, x: ArrayLike<number>, label: number, loss: AttackLoss): number[] {
  const z = Array.from({ length: K }, (_, k) => bias[k] + Array.from({ length: D }, (_, d) => x[d] * weights[d * K + k]).reduce((a, v) => a + v, 0));
  const top = Math.max(...z);
  const e = z.map((v) => Math.exp(v - top));
  const p = e.map((v) => v / e.reduce((a, u) => a + u, 0));
  const y = p.map((_, k) => (k === label ? 1 : 0));
  let dz: number[];
  if (loss === 'ce') dz = p.map((pk, k) => pk - y[k]);
  else {
    const g = p.map((pc, c) => -y[c] / pc + (1 - y[c]) / (1 - pc));
    dz = p.map((pk, k) => g.reduce((a, gc, c) => a + gc * p[c] * ((c === k ? 1 : 0) - pk), 0));
  }
  return Array.from({ length: D }, (_, d) => dz.reduce((a, v, k) => a + v * weights[d * K + k], 0));
}

const N = 6;
const weights = randomArray(D * K, 1, 1.5);
const bias = randomArray(K, 2, 0.5);
const labels = Int32Array.from({ length: N }, (_, i) => i % K);
/** Pixels inside (0.1, 0.9), so small steps never reach the clip bounds. */
const pixels = Float32Array.from(randomArray(N * D, 3), (v) => 0.5 + 0.4 * Math.tanh(v));

function setting(over: Partial<AttackSetting>): AttackSetting {
  return { attack: 'fgsm', eps: 0.05, epsText: '0.05', space: 'pixel', clip: false, loss: 'ce', steps: 1, stepSize: null, ...over };
}

/** The clean attacked variable for a space: pixels, or their normalized image. */
function clean(space: AttackSpace): Float32Array {
  return space === 'pixel' ? pixels : pixels.map((u, i) => (u - NORM.mean[i % C]) / NORM.std[i % C]);
}

for (const space of ['pixel', 'normalized'] as const) {
  for (const loss of ['ce', 'bce'] as const) {
    test(`FGSM (${space}, ${loss}) moves each input by ε·sign of the analytic gradient`, () => {
      const model = linearModel(weights, bias);
      const zData = clean(space);
      const z = tf.tensor4d(zData, [N, H, W, C]);
      const y = tf.tensor1d(labels, 'int32');
      const eps = 0.05;
      const adv = fgsm(model, z, y, setting({ space, loss, eps }), NORM);
      const delta = tf.sub(adv, z).dataSync();
      // The model sees x = (u − mean)/std in pixel space; x = z otherwise.
      const x = space === 'pixel' ? zData.map((u, i) => (u - NORM.mean[i % C]) / NORM.std[i % C]) : zData;
      for (let i = 0; i < N; i++) {
        const g = analyticGradient(weights, bias, x.subarray(i * D, (i + 1) * D), labels[i], loss);
        for (let d = 0; d < D; d++) {
          // The chain rule's 1/std > 0 does not change the sign; no component is near 0.
          assert.ok(Math.abs(g[d]) > 1e-5, `gradient component ${i},${d} too small to sign reliably`);
          assert.ok(Math.abs(delta[i * D + d] - eps * Math.sign(g[d])) < 1e-6, `example ${i} input ${d}: ${delta[i * D + d]} vs ${eps * Math.sign(g[d])}`);
        }
      }
      tf.dispose([z, y, adv]);
      model.params.dispose();
    });
  }
}

test('before clipping, |x_adv − x|∞ = ε in the attacked space; pixel-space ε moves the normalized input by ε/std', () => {
  const model = linearModel(weights, bias);
  const y = tf.tensor1d(labels, 'int32');
  for (const space of ['pixel', 'normalized'] as const) {
    for (const eps of [0.01, 8 / 255, 0.3]) {
      const z = tf.tensor4d(clean(space), [N, H, W, C]);
      const adv = fgsm(model, z, y, setting({ space, eps }), NORM);
      const d = tf.sub(adv, z).dataSync();
      for (const v of d) assert.ok(Math.abs(Math.abs(v) - eps) < 1e-6, `${space} ε=${eps}: |δ| = ${Math.abs(v)}`);
      if (space === 'pixel') {
        const moved = tf.sub(toModelInput(adv, 'pixel', NORM), toModelInput(z, 'pixel', NORM)).dataSync();
        moved.forEach((v, i) => assert.ok(Math.abs(Math.abs(v) - eps / NORM.std[i % C]) < 1e-5));
      }
      tf.dispose([z, adv]);
    }
  }
  y.dispose();
  model.params.dispose();
});

test('clipping keeps pixels in [0,1] (and the normalized image of [0,1] in normalized space)', () => {
  const model = linearModel(weights, bias);
  const y = tf.tensor1d(labels, 'int32');
  for (const space of ['pixel', 'normalized'] as const) {
    // A valid image is [0,1] per pixel; in normalized space, its image under (u − mean)/std.
    const lo = space === 'pixel' ? [0, 0] : NORM.mean.map((m, c) => -m / NORM.std[c]);
    const hi = space === 'pixel' ? [1, 1] : NORM.mean.map((m, c) => (1 - m) / NORM.std[c]);
    const z = tf.tensor4d(clean(space), [N, H, W, C]);
    for (const s of [setting({ space, eps: 0.5, clip: true }), setting({ attack: 'pgd', space, eps: 0.5, steps: 5, stepSize: 0.2, clip: true })]) {
      const adv = attack(model, z, y, s, NORM);
      const v = adv.dataSync();
      let atBound = 0;
      v.forEach((a, i) => {
        assert.ok(a >= lo[i % C] - 1e-6 && a <= hi[i % C] + 1e-6, `${space} ${s.attack}: ${a} outside [${lo[i % C]}, ${hi[i % C]}]`);
        if (Math.abs(a - lo[i % C]) < 1e-6 || Math.abs(a - hi[i % C]) < 1e-6) atBound++;
      });
      assert.ok(atBound > 0, 'some inputs were clipped (the test exercises clipping)');
      adv.dispose();
    }
    // Without clipping the same attack leaves the range.
    const free = fgsm(model, z, y, setting({ space, eps: 0.5, clip: false }), NORM);
    assert.ok(free.dataSync().some((a, i) => a < lo[i % C] || a > hi[i % C]));
    tf.dispose([z, free]);
  }
  y.dispose();
  model.params.dispose();
});

test('PGD: one step of size ε is FGSM; more steps stay in the ε-ball; unbounded moves further', () => {
  const model = linearModel(weights, bias);
  const y = tf.tensor1d(labels, 'int32');
  const z = tf.tensor4d(pixels, [N, H, W, C]);
  const eps = 0.05;
  const one = pgd(model, z, y, setting({ attack: 'pgd', eps, steps: 1, stepSize: eps }), NORM);
  const f = fgsm(model, z, y, setting({ eps }), NORM);
  assert.deepEqual(Array.from(one.dataSync()), Array.from(f.dataSync()));
  const many = pgd(model, z, y, setting({ attack: 'pgd', eps, steps: 20, stepSize: 0.01 }), NORM);
  const dMany = tf.sub(many, z).dataSync();
  assert.ok(dMany.every((v) => Math.abs(v) <= eps + 1e-6), 'projected onto the ε-ball');
  const free = pgd(model, z, y, unboundedPgd(20, 0.01, { space: 'pixel', clip: false, loss: 'ce' }), NORM);
  const dFree = tf.sub(free, z).dataSync();
  assert.ok(Math.max(...dFree.map(Math.abs)) > eps + 0.05, 'unbounded PGD leaves the ε-ball');
  assert.ok(dFree.every((v) => Math.abs(v) <= 20 * 0.01 + 1e-5), 'no further than steps × step size');
  tf.dispose([y, z, one, f, many, free]);
  model.params.dispose();
});

test('the gradient sign through a loss summed over the batch is each example\'s own (batch composition does not matter)', () => {
  const model = linearModel(weights, bias);
  const all = tf.tensor4d(pixels, [N, H, W, C]);
  const y = tf.tensor1d(labels, 'int32');
  const whole = gradientSign(model, all, y, { space: 'pixel', loss: 'bce' }, NORM).dataSync();
  const first = tf.slice(all, [0, 0, 0, 0], [1, H, W, C]) as tf.Tensor4D;
  const alone = gradientSign(model, first, tf.slice(y, [0], [1]) as tf.Tensor1D, { space: 'pixel', loss: 'bce' }, NORM).dataSync();
  assert.deepEqual(Array.from(alone), Array.from(whole.subarray(0, D)));
  tf.dispose([all, y, first]);
  model.params.dispose();
});

function syntheticSplit(n: number): Split {
  const r = new Rng(5, 'split');
  return {
    images: Uint8Array.from({ length: n * D }, () => r.int(256)),
    labels: Uint8Array.from({ length: n }, () => r.int(K)),
    n,
  };
}

test('attackAccuracy: ε = 0 gives the clean accuracy; accuracy falls with ε; batch size does not matter', () => {
  const model = linearModel(weights, bias);
  const split = syntheticSplit(57);
  const settings = [0, 0.02, 0.1, 0.5].flatMap((eps) => (['pixel', 'normalized'] as const).map((space) => setting({ eps, epsText: String(eps), space, clip: true })));
  const a = attackAccuracy(model, split, settings, { norm: NORM, batchSize: 10 });
  const b = attackAccuracy(model, split, settings, { norm: NORM, batchSize: 57 });
  assert.deepEqual(a, b);
  for (const space of ['pixel', 'normalized'] as const) {
    const rows = a.filter((r) => r.setting.space === space);
    assert.equal(rows[0].accuracy, rows[0].clean_accuracy, `${space}: ε = 0`);
    assert.ok(rows[0].clean_accuracy > 0, 'the clean model gets some right');
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i].accuracy <= rows[i - 1].accuracy, `${space}: monotone in ε`);
    assert.ok(rows.at(-1)!.accuracy < rows[0].accuracy, `${space}: the attack hurts`);
  }
  // The clean accuracy agrees with a direct forward pass on the normalized images.
  const x = tf.tensor4d(Float32Array.from(split.images, (p, i) => (p / 255 - NORM.mean[i % C]) / NORM.std[i % C]), [split.n, H, W, C]);
  const pred = tf.argMax(model.forward(x, { training: false }), 1).dataSync();
  const direct = Array.from(pred).reduce((k, p, i) => k + Number(p === split.labels[i]), 0) / split.n;
  assert.equal(a.find((r) => r.setting.space === 'normalized')!.clean_accuracy, direct);
  tf.dispose(x);
  model.params.dispose();
});

test('attacks leave no tensors behind', () => {
  const model = linearModel(weights, bias);
  const z = tf.tensor4d(pixels, [N, H, W, C]);
  const y = tf.tensor1d(labels, 'int32');
  const before = tf.memory().numTensors;
  for (const s of [setting({}), setting({ loss: 'bce', space: 'normalized', clip: true }), setting({ attack: 'pgd', steps: 7, stepSize: 0.01, clip: true })]) {
    attack(model, z, y, s, NORM).dispose();
    assert.equal(tf.memory().numTensors, before, `${s.attack} ${s.space} ${s.loss}`);
  }
  attackAccuracy(model, syntheticSplit(23), [setting({}), setting({ attack: 'pgd', steps: 3, stepSize: 0.02, space: 'normalized' })], { norm: NORM, batchSize: 8 });
  assert.equal(tf.memory().numTensors, before, 'attackAccuracy');
  tf.dispose([z, y]);
  model.params.dispose();
});

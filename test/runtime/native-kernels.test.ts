/**
 * The 'onednn' backend's native kernels (src/runtime/native-kernels.ts) against the cpu
 * backend's reference on seeded random inputs: convolution forward and both gradients at
 * strides 1 and 2 and odd shapes, FusedConv2D with bias and ReLU, training-mode BatchNorm
 * (values, batch statistics, gradients), the elementwise kernels, and a whole training step.
 *
 * The addon exists only where libdnnl-dev was present at install. Without it these tests are
 * reported as skipped, with the reason, unless MIXUP_RUN_REQUIRE_ONEDNN=1 (CI sets it), which
 * turns its absence into a failure.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { batchNormRelu, BN_EPS, type BatchStats } from '../../src/models/layers.js';
import { createModel } from '../../src/models/registry.js';
import { selectBackend } from '../../src/runtime/backend.js';
import { ONEDNN_BACKEND, ONEDNN_KERNELS, oneDnnAvailable, registerOneDnnBackend } from '../../src/runtime/native-kernels.js';
import { Sgd, SGD_UPDATE_KERNEL } from '../../src/train/optimizer.js';
import { trainStep } from '../../src/train/step.js';
import { maxAbsDiff, randomArray, tf } from '../helpers/tf.js';

const required = process.env['MIXUP_RUN_REQUIRE_ONEDNN'] === '1';
const present = oneDnnAvailable();
const skip = present ? false : 'the oneDNN addon is not built (install libdnnl-dev, then npm install)';
if (present) registerOneDnnBackend();

test('the oneDNN addon is present when required', () => {
  if (required) assert.ok(present, 'MIXUP_RUN_REQUIRE_ONEDNN=1 but the addon mixup-run-onednn does not load');
});

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

/** Runs f on a backend inside tidy and downloads every output. */
async function on(backend: string, f: () => tf.Tensor | tf.Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const data = list.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(list);
  return data;
}

/** max |a − b| ≤ rtol · max(1, max |b|) for every output; NaN and ±Infinity exactly where the reference has them. */
function assertClose(actual: Float32Array[], expected: Float32Array[], what: string, rtol = 1e-5): void {
  assert.equal(actual.length, expected.length, `${what}: outputs`);
  expected.forEach((e, k) => {
    const a = actual[k];
    assert.equal(a.length, e.length, `${what}[${k}]: length`);
    let err = 0;
    let scale = 1;
    for (let i = 0; i < e.length; i++) {
      if (a[i] === e[i]) continue;
      if (!Number.isFinite(e[i])) {
        assert.ok(Number.isNaN(e[i]) && Number.isNaN(a[i]), `${what}[${k}][${i}]: expected ${e[i]}, got ${a[i]}`);
        continue;
      }
      scale = Math.max(scale, Math.abs(e[i]));
      err = Math.max(err, Number.isNaN(a[i]) ? Infinity : Math.abs(a[i] - e[i]));
    }
    assert.ok(err <= rtol * scale, `${what}[${k}]: max error ${err.toExponential(2)} at scale ${scale.toExponential(2)}`);
  });
}

async function compare(what: string, f: () => tf.Tensor | tf.Tensor[], rtol?: number): Promise<void> {
  assertClose(await on(ONEDNN_BACKEND, f), await on('cpu', f), what, rtol);
}

interface ConvCase {
  x: Shape4;
  f: Shape4;
  strides: number | [number, number];
  pad: Pad;
}

const convCases: ConvCase[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { x: [3, 9, 7, 5], f: [3, 3, 5, 4], strides: 2, pad: 'same' }, // odd sizes, asymmetric 'same' pads
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { x: [2, 10, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 'valid' }, // unused trailing rows/cols
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 1 }, // PyTorch's padding=1
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 1 },
  { x: [2, 9, 9, 6], f: [1, 1, 6, 8], strides: 2, pad: 'valid' }, // projection shortcut
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 8, 7, 3], f: [5, 3, 3, 2], strides: [2, 1], pad: 'same' },
  { x: [1, 11, 11, 2], f: [3, 3, 2, 2], strides: 3, pad: 'same' },
  { x: [4, 6, 6, 17], f: [3, 3, 17, 19], strides: 1, pad: 1 }, // channel counts off any SIMD width
];

const label = (c: ConvCase) => `x=[${c.x}] f=[${c.f}] strides=${JSON.stringify(c.strides)} pad=${JSON.stringify(c.pad)}`;

describe('native convolution against the cpu backend', { skip }, () => {
  test('the backend registers and activates', async () => {
    assert.ok(registerOneDnnBackend());
    const info = await selectBackend('onednn');
    assert.equal(info.name, 'onednn');
    assert.equal(tf.getBackend(), ONEDNN_BACKEND);
    assert.ok(info.threads >= 1);
    assert.match(info.native[0], /^oneDNN \d+\.\d+/);
    assert.deepEqual(info.custom_kernels, [...ONEDNN_KERNELS]);
    for (const k of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter']) assert.ok(ONEDNN_KERNELS.includes(k), k);
  });

  convCases.forEach((c, i) => {
    test(`forward and both gradients: ${label(c)}`, async () => {
      const xv = randomArray(c.x.reduce((a, b) => a * b), 10 + i);
      const wv = randomArray(c.f.reduce((a, b) => a * b), 20 + i, 0.3);
      const outShape = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, 1, c.pad).outShape;
      const rv = randomArray(outShape.reduce((a, b) => a * b), 30 + i);
      await compare(`conv ${label(c)}`, () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, c.f);
        const r = tf.tensor(rv, outShape);
        const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, c.strides, c.pad), r));
        return [tf.conv2d(x, w, c.strides, c.pad), ...tf.grads(loss)([x, w])];
      });
    });
  });

  test('FusedConv2D with bias and ReLU, and its gradients', async () => {
    const xs: Shape4 = [2, 9, 9, 4];
    const fs: Shape4 = [3, 3, 4, 6];
    const xv = randomArray(2 * 9 * 9 * 4, 1);
    const wv = randomArray(3 * 3 * 4 * 6, 2, 0.3);
    const bv = randomArray(6, 3);
    for (const activation of ['relu', 'linear'] as const) {
      await compare(`fused ${activation}`, () => {
        const x = tf.tensor4d(xv, xs);
        const w = tf.tensor4d(wv, fs);
        const b = tf.tensor1d(bv);
        const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
          tf.fused.conv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 2, pad: 'same', bias: bb, activation });
        return [f(x, w, b), ...tf.grads((xx, ww, bb) => tf.sum(tf.square(f(xx, ww, bb))))([x, w, b])];
      });
    }
  });

  test('a dilated convolution (not taken by the native kernel) falls back to the cpu kernel', async () => {
    const xv = randomArray(2 * 9 * 9 * 3, 5);
    const wv = randomArray(3 * 3 * 3 * 4, 6);
    await compare('dilated conv', () => tf.conv2d(tf.tensor4d(xv, [2, 9, 9, 3]), tf.tensor4d(wv, [3, 3, 3, 4]), 1, 'same', 'NHWC', 2));
  });
});

describe('native BatchNorm-ReLU against the closed form on the cpu backend', { skip }, () => {
  for (const shape of [[3, 5, 7, 6], [8, 4, 4, 16], [2, 1, 1, 3]] as Shape4[]) {
    test(`values, batch statistics and gradients, x=[${shape}]`, async () => {
      const n = shape.reduce((a, b) => a * b);
      const C = shape[3];
      const xv = randomArray(n, 40, 2);
      const dyv = randomArray(n, 41);
      const gv = randomArray(C, 42);
      const bv = randomArray(C, 43);
      const run = () => {
        const bn = {
          gamma: tf.variable(tf.tensor1d(gv)),
          beta: tf.variable(tf.tensor1d(bv)),
          runningMean: tf.variable(tf.zeros([C])),
          runningVar: tf.variable(tf.ones([C])),
        } as unknown as Parameters<typeof batchNormRelu>[1];
        const stats: BatchStats[] = [];
        const x = tf.tensor4d(xv, shape);
        const dy = tf.tensor4d(dyv, shape);
        const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
          const p = { ...bn, gamma: g, beta: b } as unknown as typeof bn;
          return tf.sum(tf.mul(batchNormRelu(xx as tf.Tensor4D, p, { training: true, stats }), dy));
        };
        const y = batchNormRelu(x, bn, { training: true });
        const grads = tf.grads(f)([x, bn.gamma, bn.beta]);
        const out = [y, stats[0].mean, stats[0].variance, ...grads].map((t) => tf.clone(t));
        tf.dispose([bn.gamma, bn.beta, bn.runningMean, bn.runningVar, ...stats.flatMap((s) => [s.mean, s.variance])]);
        return out;
      };
      assert.ok(tf.getKernel('BatchNormTrainingNHWC', ONEDNN_BACKEND), 'native BN kernel registered');
      // oneDNN reduces in float32, the cpu reference in float64.
      await compare(`batchNorm [${shape}] (eps ${BN_EPS})`, run, 1e-4);
    });
  }
});

describe('native elementwise kernels against the cpu backend', { skip }, () => {
  const shapes: Array<[number[], number[]]> = [
    [[2, 3, 5, 7], [2, 3, 5, 7]], // same shape
    [[2, 3, 5, 7], []], // scalar
    [[], [4, 9]],
    [[2, 3, 5, 7], [7]], // per-channel
    [[7], [2, 3, 5, 7]],
    [[2, 3, 5, 7], [1, 1, 5, 7]], // trailing broadcast with leading 1s
    [[2, 3, 5, 7], [2, 1, 1, 7]], // strided broadcast (a mean's gradient)
    [[4, 1, 3], [1, 5, 1]], // both operands broadcast
    [[2, 3, 1, 7], [3, 5, 1]],
    [[300, 301], [300, 301]], // large enough to run on several threads
  ];
  for (const [op, f] of [
    ['Add', tf.add],
    ['Sub', tf.sub],
    ['Multiply', tf.mul],
    ['RealDiv', tf.div],
  ] as const) {
    for (const [sa, sb] of shapes) {
      test(`${op} [${sa}] with [${sb}]`, async () => {
        const av = randomArray(sa.reduce((p, d) => p * d, 1), 50);
        const bv = randomArray(sb.reduce((p, d) => p * d, 1), 51);
        // Exactly the cpu backend's float32 results.
        await compare(`${op} [${sa}] [${sb}]`, () => f(tf.tensor(av, sa), tf.tensor(bv, sb)), 0);
      });
    }
  }

  test('Relu, Step and ReLU gradient, with NaN, ±0 and ±Infinity', async () => {
    const v = Float32Array.from([...randomArray(200_001, 52), NaN, -0, 0, Infinity, -Infinity]);
    await compare('relu/step', () => {
      const x = tf.tensor1d(v);
      return [tf.relu(x), tf.step(x), tf.step(x, 0.25), tf.grad((xx) => tf.sum(tf.relu(xx)))(x)];
    }, 0);
  });

  test('GatherV2 of whole rows (mixup permutations), int32 rows, another axis, the gradient', async () => {
    const xv = randomArray(6 * 5 * 3 * 4, 53);
    await compare('gather', () => {
      const x = tf.tensor4d(xv, [6, 5, 3, 4]);
      const perm = tf.tensor1d([3, 0, 5, 1, 4, 2], 'int32');
      const w = tf.tensor4d(randomArray(6 * 5 * 3 * 4, 54), [6, 5, 3, 4]);
      return [
        tf.gather(x, perm),
        tf.gather(x, tf.tensor2d([5, 5, 0, 1], [2, 2], 'int32')),
        tf.cast(tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([2, 0], 'int32')), 'float32'),
        tf.gather(x, tf.tensor1d([2, 0], 'int32'), 2),
        tf.grad((xx) => tf.sum(tf.mul(tf.gather(xx, perm), w)))(x),
      ];
    }, 0);
    await tf.setBackend(ONEDNN_BACKEND);
    assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32')), /not in \[0, 2\]/);
  });

  for (const [shape, axis, keepDims] of [
    [[4, 3, 5, 6], [1, 2], false], // global average pooling
    [[4, 3, 5, 6], [0, 1, 2], true],
    [[4, 3, 5, 6], undefined, false], // everything
    [[4, 3, 5, 6], -1, false],
    [[4, 3, 5, 6], [0, 2], false], // not adjacent: the cpu kernel
    [[7, 9], 0, true],
  ] as Array<[number[], number | number[] | undefined, boolean]>) {
    test(`Sum and Mean of [${shape}] over ${JSON.stringify(axis)}${keepDims ? ', keepDims' : ''}, and the gradient`, async () => {
      const xv = randomArray(shape.reduce((p, d) => p * d), 55, 3);
      // The cpu kernels' own float64 sums in their order: equal to the last bit.
      await compare(`reduce ${JSON.stringify(axis)}`, () => {
        const x = tf.tensor(xv, shape);
        return [tf.sum(x, axis, keepDims), tf.mean(x, axis, keepDims), tf.grad((xx) => tf.sum(tf.square(tf.mean(xx, axis, keepDims))))(x)];
      }, 0);
    });
  }

  test('float32 casts of bool tensors (kept as bytes by the cpu backend) still compute', async () => {
    await compare('cast bool', () => {
      const c = tf.cast(tf.greater(tf.tensor1d([1, -2, 3, 0]), 0), 'float32');
      return [tf.sum(c), tf.mul(c, tf.tensor1d([2, 3, 4, 5])), tf.relu(c)];
    }, 0);
  });

  for (const [as, bs, ta, tb] of [
    [[6, 9], [9, 4], false, false], // the linear layer
    [[9, 6], [9, 4], true, false], // its weight gradient
    [[6, 4], [9, 4], false, true], // its input gradient
    [[3, 5, 7], [3, 7, 2], false, false], // batched
    [[3, 7, 5], [7, 2], true, false], // b shared by the batch
    [[1, 5, 7], [2, 3, 2, 7], false, true], // a shared, b batched over two axes
    [[2, 5, 7], [3, 7, 2], false, false], // batch dimensions that do not broadcast: the cpu kernel's error
  ] as Array<[number[], number[], boolean, boolean]>) {
    test(`BatchMatMul [${as}]${ta ? 'ᵀ' : ''} × [${bs}]${tb ? 'ᵀ' : ''}`, async () => {
      const av = randomArray(as.reduce((p, d) => p * d), 56);
      const bv = randomArray(bs.reduce((p, d) => p * d), 57);
      const f = () => tf.matMul(tf.tensor(av, as), tf.tensor(bv, bs), ta, tb);
      if (as[0] === 2 && bs[0] === 3) {
        await tf.setBackend(ONEDNN_BACKEND);
        assert.throws(() => tf.tidy(f));
        return;
      }
      await compare(`matMul [${as}] [${bs}]`, f);
    });
  }

  test('integer arithmetic still runs on the cpu kernels', async () => {
    await compare('int add', () => tf.cast(tf.add(tf.tensor1d([1, 2, 3], 'int32'), tf.tensor1d([4, 5, 6], 'int32')), 'float32'), 0);
  });
});

describe('the fused SGD update against the eight-op update on the cpu backend', { skip }, () => {
  for (const [nesterov, wd] of [[true, 5e-4], [false, 0], [true, 0]] as const) {
    test(`three steps, nesterov ${nesterov}, weight decay ${wd}, small and multi-threaded sizes`, async () => {
      const shapes = [[3, 3, 5, 7], [640, 512]];
      const run = async (backend: string) => {
        await tf.setBackend(backend);
        const params = new Map(shapes.map((sh, i) => [`p${i}`, tf.variable(tf.tensor(randomArray(sh[0] * sh[1] * (sh[2] ?? 1) * (sh[3] ?? 1), 70 + i), sh))]));
        const opt = new Sgd(params, { momentum: 0.9, nesterov, weight_decay: wd });
        for (let step = 0; step < 3; step++) {
          const grads = new Map(shapes.map((sh, i) => [`p${i}`, tf.tensor(randomArray(params.get(`p${i}`)!.size, 80 + 10 * step + i), sh)]));
          opt.step(grads, 0.1 / (step + 1));
          tf.dispose([...grads.values()]);
        }
        const out = [...params.values(), ...opt.buffers.values()].map((v) => Float32Array.from(v.dataSync()));
        opt.dispose();
        tf.dispose([...params.values()]);
        return out;
      };
      assert.ok(tf.getKernel(SGD_UPDATE_KERNEL, ONEDNN_BACKEND), 'fused SGD kernel registered');
      assert.equal(tf.getKernel(SGD_UPDATE_KERNEL, 'cpu'), undefined);
      const ref = await run('cpu');
      const ours = await run(ONEDNN_BACKEND);
      // The same float32 operations in the same order (the addon is built without FMA
      // contraction), so the same bits.
      ref.forEach((r, i) => assert.equal(maxAbsDiff(ours[i], r), 0, `tensor ${i}`));
    });
  }
});

describe('a PreActResNet18 training step on onednn against the cpu backend', { skip }, () => {
  test('loss, correct count and updated weights, with manifold mixup and two micro-batches', async () => {
    const batch = 6;
    const x = randomArray(batch * 16 * 16 * 3, 60);
    const labels = Int32Array.from({ length: batch }, (_, i) => i % 4);
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const m = createModel('preactresnet18', { inputShape: [16, 16, 3], classes: 4, width: 4, finalBn: false }, 7);
      const opt = new Sgd(m.params.trainable, { momentum: 0.9, nesterov: true, weight_decay: 5e-4 });
      const mix = { layer: 1, lambda: 0.3, perm: Int32Array.from([2, 0, 1]) };
      const r = trainStep(m, opt, [
        { x: x.subarray(0, 3 * 16 * 16 * 3), labels: labels.subarray(0, 3), mix },
        { x: x.subarray(3 * 16 * 16 * 3), labels: labels.subarray(3), mix: { ...mix, perm: Int32Array.from([1, 2, 0]) } },
      ], 'bce', 0.1);
      const weights = [...m.params.trainable.values(), ...m.params.buffers.values()].map((v) => Float32Array.from(v.dataSync()));
      opt.dispose();
      m.params.dispose();
      return { r, weights };
    };
    const ref = await run('cpu');
    const ours = await run(ONEDNN_BACKEND);
    assert.ok(Math.abs(ours.r.loss - ref.r.loss) <= 1e-5 * Math.abs(ref.r.loss), `loss ${ours.r.loss} vs ${ref.r.loss}`);
    assert.equal(ours.r.correct, ref.r.correct);
    assertClose(ours.weights, ref.weights, 'weights after one step', 1e-4);
  });
});

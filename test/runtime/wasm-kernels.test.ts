// Checks the wasm training kernels of src/runtime/wasm-kernels.ts against the
// cpu backend's reference implementations on seeded random inputs.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  builtinWasmKernel,
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../../src/runtime/wasm-kernels.js';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

/** Small deterministic LCG (Numerical Recipes constants) -> values in [-1, 1). */
function lcgFill(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2147483648 - 1;
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

interface Result {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** Runs f on the given backend inside tidy and downloads its outputs. */
async function onBackend(backend: 'cpu' | 'wasm', f: () => tf.Tensor | tf.Tensor[]): Promise<Result[]> {
  await tf.setBackend(backend);
  const out = tf.tidy(f);
  const list = Array.isArray(out) ? out : [out];
  const res: Result[] = [];
  for (const t of list) {
    res.push({ shape: t.shape.slice(), data: (await t.data()) as Float32Array | Int32Array });
  }
  tf.dispose(list);
  return res;
}

function assertClose(actual: Result[], expected: Result[], label: string): void {
  assert.equal(actual.length, expected.length, `${label}: number of outputs`);
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    assert.deepEqual(a.shape, e.shape, `${label}[${k}]: shape`);
    let maxRef = 0;
    let maxErr = 0;
    for (let i = 0; i < e.data.length; i++) {
      maxRef = Math.max(maxRef, Math.abs(e.data[i]));
      const err = Math.abs(a.data[i] - e.data[i]);
      if (!(err <= maxErr)) maxErr = Number.isNaN(err) ? Infinity : err;
    }
    const tol = 1e-4 * Math.max(1, maxRef);
    assert.ok(maxErr <= tol, `${label}[${k}]: max abs error ${maxErr} > ${tol} (max |ref| ${maxRef})`);
  }
}

async function compare(label: string, f: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const expected = await onBackend('cpu', f);
  const actual = await onBackend('wasm', f);
  assertClose(actual, expected, label);
}

interface ConvCase {
  x: Shape4;
  f: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const convCases: ConvCase[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { x: [1, 7, 7, 4], f: [3, 3, 4, 6], strides: 2, pad: 'same' },
  { x: [3, 9, 9, 5], f: [3, 3, 5, 4], strides: 2, pad: 'same' },
  { x: [2, 8, 8, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same' }, // asymmetric same pad (0 top, 1 bottom)
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  { x: [2, 10, 10, 3], f: [3, 3, 3, 4], strides: 2, pad: 'valid' }, // unused trailing row/col
  { x: [1, 7, 7, 3], f: [3, 3, 3, 2], strides: 1, pad: 'valid' },
  { x: [2, 8, 8, 6], f: [1, 1, 6, 4], strides: 1, pad: 'valid' },
  { x: [2, 9, 9, 6], f: [1, 1, 6, 8], strides: 2, pad: 'same' },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 4], strides: 1, pad: 1 },
  { x: [2, 9, 9, 3], f: [3, 3, 3, 4], strides: 2, pad: 1 },
  { x: [2, 6, 6, 2], f: [1, 1, 2, 3], strides: 1, pad: 2 }, // pad larger than filter-1
  { x: [2, 6, 6, 2], f: [1, 1, 2, 3], strides: 2, pad: 2 }, // ... at stride 2: sub-pixel phases crop dy
  { x: [1, 10, 9, 3], f: [3, 3, 3, 2], strides: 2, pad: 3 },
  { x: [1, 9, 9, 2], f: [3, 3, 2, 3], strides: 2, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { x: [2, 8, 7, 3], f: [5, 3, 3, 2], strides: [2, 1], pad: 'same' },
  { x: [1, 11, 11, 2], f: [3, 3, 2, 2], strides: 3, pad: 'same' },
  { x: [1, 8, 8, 2], f: [3, 3, 2, 3], strides: 2, pad: 0, dimRoundingMode: 'ceil' }, // last window overhangs
];

function describeCase(c: ConvCase): string {
  return `x=[${c.x}] f=[${c.f}] s=${JSON.stringify(c.strides)} pad=${JSON.stringify(c.pad)}` +
    (c.dimRoundingMode ? ` round=${c.dimRoundingMode}` : '');
}

function dyShapeOf(c: ConvCase): Shape4 {
  const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.strides, 1, c.pad, c.dimRoundingMode);
  return info.outShape as Shape4;
}

before(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  assert.equal(tf.getBackend(), 'wasm');
});

describe('Conv2DBackpropFilter on wasm', () => {
  convCases.forEach((c, idx) => {
    test(describeCase(c), async () => {
      const dyShape = dyShapeOf(c);
      const xv = lcgFill(size(c.x), 100 + idx);
      const dyv = lcgFill(size(dyShape), 200 + idx);
      await compare(`filter ${describeCase(c)}`, () =>
        tf.engine().runKernel(
          'Conv2DBackpropFilter',
          { x: tf.tensor4d(xv, c.x), dy: tf.tensor4d(dyv, dyShape) },
          {
            strides: c.strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            dimRoundingMode: c.dimRoundingMode,
            filterShape: c.f,
          } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      );
    });
  });
});

describe('Conv2DBackpropInput on wasm', () => {
  convCases.forEach((c, idx) => {
    test(describeCase(c), async () => {
      const dyShape = dyShapeOf(c);
      const wv = lcgFill(size(c.f), 300 + idx);
      const dyv = lcgFill(size(dyShape), 400 + idx);
      await compare(`input ${describeCase(c)}`, () =>
        tf.engine().runKernel(
          'Conv2DBackpropInput',
          { dy: tf.tensor4d(dyv, dyShape), filter: tf.tensor4d(wv, c.f) },
          {
            strides: c.strides,
            pad: c.pad,
            dataFormat: 'NHWC',
            dimRoundingMode: c.dimRoundingMode,
            inputShape: c.x,
          } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
      );
    });
  });

  test('a larger stride-2 case through the public tf.conv2dTranspose op', async () => {
    const dyShape: Shape4 = [4, 8, 8, 16];
    const fShape: Shape4 = [3, 3, 8, 16];
    const dyv = lcgFill(size(dyShape), 7);
    const wv = lcgFill(size(fShape), 8);
    await compare('conv2dTranspose', () =>
      tf.conv2dTranspose(tf.tensor4d(dyv, dyShape), tf.tensor4d(wv, fShape), [4, 15, 15, 8], 2, 'same'),
    );
  });
});

describe('full gradient path on wasm', () => {
  const xShape: Shape4 = [3, 9, 9, 3];
  const w1Shape: Shape4 = [3, 3, 3, 8];
  const w2Shape: Shape4 = [3, 3, 8, 6];
  const xv = lcgFill(size(xShape), 11);
  const w1v = lcgFill(size(w1Shape), 12);
  const w2v = lcgFill(size(w2Shape), 13);
  const tv = lcgFill(3 * 5 * 5 * 6, 14);

  // conv 'same' stride 2 -> relu -> conv numeric pad 1 stride 1 -> weighted sum.
  const net = (x: tf.Tensor4D, w1: tf.Tensor4D, w2: tf.Tensor4D): tf.Scalar => {
    const h = tf.relu(tf.conv2d(x, w1, 2, 'same'));
    const y = tf.conv2d(h, w2, 1, 1);
    return tf.sum(tf.mul(y, tf.tensor4d(tv, [3, 5, 5, 6])));
  };

  test('tf.grads of a 2-conv network (dx, dw1, dw2)', async () => {
    await compare('grads', () => {
      const g = tf.grads((x, w1, w2) => net(x as tf.Tensor4D, w1 as tf.Tensor4D, w2 as tf.Tensor4D));
      return g([tf.tensor4d(xv, xShape), tf.tensor4d(w1v, w1Shape), tf.tensor4d(w2v, w2Shape)]);
    });
  });

  test('tf.variableGrads of a 2-conv network with a stride-2 numeric-pad conv', async () => {
    const run = () => {
      const w1 = tf.variable(tf.tensor4d(w1v, w1Shape));
      const w2 = tf.variable(tf.tensor4d(w2v, w2Shape));
      const x = tf.tensor4d(xv, xShape);
      const { value, grads } = tf.variableGrads(() => {
        const h = tf.relu(tf.conv2d(x, w1, 1, 'same'));
        const y = tf.conv2d(h, w2, 2, 1); // 9x9 -> 5x5
        return tf.sum(tf.mul(y, tf.tensor4d(tv, [3, 5, 5, 6])));
      }, [w1, w2]);
      const out = [value, grads[w1.name], grads[w2.name]];
      // Variables are not tracked by tidy; free them here.
      w1.dispose();
      w2.dispose();
      return out;
    };
    await compare('variableGrads', run);
  });

  test('a training step gives the same loss trajectory on wasm and cpu', async () => {
    const steps = (): tf.Tensor[] => {
      const w1 = tf.variable(tf.tensor4d(w1v, w1Shape));
      const w2 = tf.variable(tf.tensor4d(w2v, w2Shape));
      const x = tf.tensor4d(xv, xShape);
      const opt = tf.train.sgd(0.01);
      const losses: tf.Tensor[] = [];
      for (let i = 0; i < 3; i++) {
        const loss = opt.minimize(() => tf.square(net(x, w1, w2)).mul(1e-3) as tf.Scalar, true, [w1, w2]);
        losses.push(loss as tf.Scalar);
      }
      const out = [...losses, w1.clone(), w2.clone()];
      w1.dispose();
      w2.dispose();
      opt.dispose();
      return out;
    };
    await compare('sgd', steps);
  });
});

describe('UnsortedSegmentSum on wasm', () => {
  test('gradient of tf.gather (axis 0, repeated indices)', async () => {
    const xv = lcgFill(6 * 5, 21);
    const idx = [0, 2, 2, 5, 0, 1, 2];
    const wv = lcgFill(idx.length * 5, 22);
    await compare('gather grad axis 0', () => {
      const w = tf.tensor2d(wv, [idx.length, 5]);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d(idx, 'int32')), w)));
      return g(tf.tensor2d(xv, [6, 5]));
    });
  });

  test('gradient of tf.gather (axis 1, 2-D repeated indices)', async () => {
    const xv = lcgFill(3 * 7 * 4, 23);
    const idx = [[6, 0, 6], [3, 3, 0]];
    const wv = lcgFill(3 * 2 * 3 * 4, 24);
    await compare('gather grad axis 1', () => {
      const w = tf.tensor4d(wv, [3, 2, 3, 4]);
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor2d(idx, [2, 3], 'int32'), 1), w)));
      return g(tf.tensor3d(xv, [3, 7, 4]));
    });
  });

  test('direct: matches cpu, drops out-of-range ids', async () => {
    const xv = lcgFill(8 * 3, 25);
    const ids = [0, 3, -1, 3, 7, 1, 4, 0]; // -1 and 7 (>= numSegments 5) are dropped
    const expected = new Float32Array(5 * 3);
    ids.forEach((id, r) => {
      if (id < 0 || id >= 5) return;
      for (let c = 0; c < 3; c++) expected[id * 3 + c] += xv[r * 3 + c];
    });
    const [wasm] = await onBackend('wasm', () =>
      tf.unsortedSegmentSum(tf.tensor2d(xv, [8, 3]), tf.tensor1d(ids, 'int32'), 5),
    );
    assertClose([wasm], [{ shape: [5, 3], data: expected }], 'uss vs hand');
    const inRange = ids.map((id) => (id < 0 || id >= 5 ? 0 : id));
    const keep = ids.map((id) => (id < 0 || id >= 5 ? 0 : 1));
    await compare('uss vs cpu', () =>
      tf.unsortedSegmentSum(
        tf.mul(tf.tensor2d(xv, [8, 3]), tf.tensor2d(keep, [8, 1])),
        tf.tensor1d(inRange, 'int32'),
        5,
      ),
    );
  });

  test('direct: int32 data and 2-D segment ids', async () => {
    const [r] = await onBackend('wasm', () =>
      tf.unsortedSegmentSum(
        tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [2, 3, 2], 'int32'),
        tf.tensor2d([[1, 0, 1], [2, 1, 9]], [2, 3], 'int32') as unknown as tf.Tensor1D,
        3,
      ),
    );
    assert.deepEqual(r.shape, [3, 2]);
    assert.deepEqual(Array.from(r.data), [3, 4, 1 + 5 + 9, 2 + 6 + 10, 7, 8]);
    assert.ok(r.data instanceof Int32Array);
  });
});

describe('GatherV2 of whole rows on wasm', () => {
  const cases: Array<[string, () => tf.Tensor | tf.Tensor[]]> = [
    ['a permuted 4-D batch', () => tf.gather(tf.tensor4d(lcgFill(6 * 5 * 3 * 4, 41), [6, 5, 3, 4]), tf.tensor1d([3, 0, 5, 1, 4, 2], 'int32'))],
    ['repeated rows, 2-D indices', () => tf.gather(tf.tensor2d(lcgFill(5 * 7, 42), [5, 7]), tf.tensor2d([4, 4, 0, 1, 2, 0], [2, 3], 'int32'))],
    ['int32 rows', () => tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), tf.tensor1d([2, 0], 'int32'))],
    ['axis 1 (the built-in kernel)', () => tf.gather(tf.tensor3d(lcgFill(2 * 5 * 3, 43), [2, 5, 3]), tf.tensor1d([4, 1], 'int32'), 1)],
    ['its gradient', () => tf.grad((x) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d([2, 2, 0], 'int32')), tf.tensor2d(lcgFill(12, 44), [3, 4]))))(tf.tensor2d(lcgFill(12, 45), [3, 4]))],
  ];
  for (const [label, f] of cases) test(label, async () => compare(`gather ${label}`, f));

  test('an index out of range is refused, as by the built-in kernel', async () => {
    await tf.setBackend('wasm');
    assert.throws(() => tf.gather(tf.zeros([3, 2]), tf.tensor1d([0, 3], 'int32')), /not in \[0, 2\]/);
  });
});

describe('housekeeping', () => {
  test('no tensors or wasm buffers leak from any kernel', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const c = convCases[2];
    const dyShape = dyShapeOf(c);
    const x = tf.tensor4d(lcgFill(size(c.x), 1), c.x);
    const w = tf.tensor4d(lcgFill(size(c.f), 2), c.f);
    const dy = tf.tensor4d(lcgFill(size(dyShape), 3), dyShape);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC' };
    const kernels: Array<[string, () => unknown]> = [
      ['Conv2DBackpropFilter', () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: c.f } as unknown as tf.NamedAttrMap)],
      ['Conv2DBackpropInput', () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap)],
      ['Conv2DBackpropInput stride 1', () =>
        tf.conv2dTranspose(tf.ones([1, 5, 5, 4]) as tf.Tensor4D, tf.ones([3, 3, 2, 4]) as tf.Tensor4D, [1, 5, 5, 2], 1, 'same')],
      ['UnsortedSegmentSum', () => tf.unsortedSegmentSum(x, tf.tensor1d([0, 1, 0], 'int32'), 2)],
      ['GatherV2', () => tf.gather(x, tf.tensor1d([2, 0, 1], 'int32'))],
      ['conv2d gradients', () => tf.grads((a, b) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w])],
    ];
    for (const [name, run] of kernels) {
      // tidy() keeps the value a callback returns, so return nothing.
      tf.tidy(() => void run()); // warm-up (the engine may cache scalars)
      const tensorsBefore = tf.memory().numTensors;
      const idsBefore = backend.numDataIds();
      tf.tidy(() => void run());
      assert.equal(tf.memory().numTensors, tensorsBefore, `${name}: tensor leak`);
      assert.equal(backend.numDataIds(), idsBefore, `${name}: wasm buffer leak`);
    }
    tf.dispose([x, w, dy]);
  });

  test('registering twice is harmless and silent; unregister restores built-ins', () => {
    const names = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum'];
    const before = names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    const logged: unknown[] = [];
    const saved = { warn: console.warn, log: console.log, error: console.error, info: console.info };
    console.warn = console.log = console.error = console.info = (...a: unknown[]) => void logged.push(a);
    try {
      registerWasmTrainingKernels();
      registerWasmTrainingKernels();
      unregisterWasmTrainingKernels();
      assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
      assert.equal(tf.getKernel('UnsortedSegmentSum', 'wasm'), undefined);
      assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc, builtinWasmKernel('Conv2DBackpropInput')?.kernelFunc);
      registerWasmTrainingKernels();
      registerWasmTrainingKernels();
    } finally {
      Object.assign(console, saved);
    }
    assert.deepEqual(logged, []);
    const after = names.map((n) => tf.getKernel(n, 'wasm')?.kernelFunc);
    assert.deepEqual(after, before);
    assert.ok(builtinWasmKernel('Conv2DBackpropInput') != null);
    assert.notEqual(builtinWasmKernel('Conv2DBackpropInput')?.kernelFunc, before[1]);
  });

  test('the restored built-in Conv2DBackpropInput still runs and agrees with ours', async () => {
    const dyShape: Shape4 = [2, 4, 4, 5];
    const fShape: Shape4 = [3, 3, 3, 5];
    const dyv = lcgFill(size(dyShape), 31);
    const wv = lcgFill(size(fShape), 32);
    const f = () => tf.conv2dTranspose(tf.tensor4d(dyv, dyShape), tf.tensor4d(wv, fShape), [2, 7, 7, 3], 2, 'same');
    unregisterWasmTrainingKernels();
    let builtin: Result[];
    try {
      builtin = await onBackend('wasm', f);
    } finally {
      registerWasmTrainingKernels();
    }
    assertClose(await onBackend('wasm', f), builtin, 'ours vs built-in');
  });

  test('unsupported configurations throw instead of computing', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 4, 4, 2]);
    const dy = tf.zeros([1, 4, 4, 3]);
    const w = tf.zeros([3, 3, 2, 3]);
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 2, 3] } as unknown as tf.NamedAttrMap),
      /NHWC/,
    );
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2, inputShape: [1, 4, 4, 2] } as unknown as tf.NamedAttrMap),
      /dilations/,
    );
    const dySmall = tf.zeros([1, 3, 3, 3]);
    assert.throws(
      () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dySmall },
        { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 2, 3] } as unknown as tf.NamedAttrMap),
      /does not match/,
    );
    tf.dispose([x, dy, w, dySmall]);
  });
});

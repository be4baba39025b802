// Benchmark (not a test) of the wasm training kernels in
// src/runtime/wasm-kernels.ts against the forward conv and tfjs's built-in
// wasm Conv2DBackpropInput. Run: node dist/scripts/bench-kernels.js [reps]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmTrainingKernels,
  unregisterWasmTrainingKernels,
} from '../src/runtime/wasm-kernels.js';

type Shape4 = [number, number, number, number];

interface BenchCase {
  name: string;
  x: Shape4;
  f: Shape4;
  stride: number;
  pad: 'same' | 'valid';
}

const cases: BenchCase[] = [
  { name: '64->64 3x3 s1 same, batch 32 of 32x32', x: [32, 32, 32, 64], f: [3, 3, 64, 64], stride: 1, pad: 'same' },
  { name: '64->128 3x3 s2 same, batch 32 of 32x32', x: [32, 32, 32, 64], f: [3, 3, 64, 128], stride: 2, pad: 'same' },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median wall time (ms) of `reps` runs after one warm-up; the wasm backend computes synchronously. */
function timeIt(reps: number, run: () => tf.Tensor): number {
  const once = () => {
    const t0 = performance.now();
    const out = run();
    out.dataSync(); // no-op wait on wasm, but keeps the measurement honest
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  once();
  const times: number[] = [];
  for (let i = 0; i < reps; i++) times.push(once());
  return median(times);
}

async function main(): Promise<void> {
  const reps = Number(process.argv[2] ?? 7);
  registerWasmTrainingKernels();
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(`backend=${tf.getBackend()} simd=${await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')} reps=${reps} (median)`);

  for (const c of cases) {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.f, c.stride, 1, c.pad);
    const dyShape = info.outShape as Shape4;
    const flop = 2 * dyShape[0] * dyShape[1] * dyShape[2] * c.f[0] * c.f[1] * c.f[2] * c.f[3];
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal(c.f, 0, 0.1, 'float32', 2) as tf.Tensor4D;
    const dy = tf.randomNormal(dyShape, 0, 1, 'float32', 3) as tf.Tensor4D;
    const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: undefined };

    const rows: Array<[string, number]> = [];
    rows.push(['forward Conv2D (XNNPACK)', timeIt(reps, () => tf.conv2d(x, w, c.stride, c.pad))]);
    rows.push(['ours  Conv2DBackpropInput', timeIt(reps, () =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
        { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor)]);
    rows.push(['ours  Conv2DBackpropFilter', timeIt(reps, () =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy },
        { ...attrs, filterShape: c.f } as unknown as tf.NamedAttrMap) as tf.Tensor)]);
    unregisterWasmTrainingKernels(); // the built-in kernel is back in the registry
    try {
      rows.push(['tfjs  Conv2DBackpropInput (built-in)', timeIt(Math.min(reps, 3), () =>
        tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w },
          { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor)]);
    } finally {
      registerWasmTrainingKernels();
    }

    console.log(`\n${c.name}: x=[${c.x}] w=[${c.f}] dy=[${dyShape}]  ${(flop / 1e9).toFixed(3)} GFLOP per op`);
    for (const [label, ms] of rows) {
      console.log(`  ${label.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms ${(flop / ms / 1e6).toFixed(2).padStart(7)} GFLOP/s`);
    }
    tf.dispose([x, w, dy]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

/**
 * Multithreaded wasm (src/runtime/wasm-threads.ts): the same convolutions, gradients and
 * PreActResNet18 training step computed with 1 and with 2 XNNPACK threads agree within
 * float tolerance. A process holds one wasm module for good, so each thread count runs in a
 * child process (this file, re-run with WASM_THREADS_CHILD set); a time limit on each child
 * turns a hang into a failure, and a child that exits on its own shows the pthread workers do
 * not keep a finished program alive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createModel } from '../../src/models/registry.js';
import { registerWasmTrainingKernels } from '../../src/runtime/wasm-kernels.js';
import { initWasmBackend } from '../../src/runtime/wasm-threads.js';
import { Sgd } from '../../src/train/optimizer.js';
import { trainStep } from '../../src/train/step.js';
import { randomArray, tf } from '../helpers/tf.js';

interface ChildOutput {
  threads: number;
  patchesUndone: boolean;
  outputs: number[][];
  loss: number;
}

/** The child's work: conv forward and gradients at strides 1 and 2, and one training step. */
async function childMain(threads: number): Promise<ChildOutput> {
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  registerWasmTrainingKernels();
  const got = await initWasmBackend(threads);
  const outputs: number[][] = [];
  // Big enough that XNNPACK splits the work between threads.
  const x = tf.tensor4d(randomArray(8 * 16 * 16 * 32, 1), [8, 16, 16, 32]);
  const w = tf.tensor4d(randomArray(3 * 3 * 32 * 48, 2, 0.1), [3, 3, 32, 48]);
  for (const stride of [1, 2]) {
    const f = (xx: tf.Tensor, ww: tf.Tensor) => tf.sum(tf.square(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, 'same')));
    for (const t of [tf.conv2d(x, w, stride, 'same'), ...tf.grads(f)([x, w])]) outputs.push(Array.from(t.dataSync()));
  }
  const m = createModel('preactresnet18', { inputShape: [16, 16, 3], classes: 10, width: 8, finalBn: false }, 3);
  const opt = new Sgd(m.params.trainable, { momentum: 0.9, nesterov: true, weight_decay: 5e-4 });
  const labels = Int32Array.from({ length: 12 }, (_, i) => i % 10);
  const mix = { layer: 1, lambda: 0.35, perm: Int32Array.from([3, 1, 0, 2, 5, 4, 7, 6, 11, 10, 9, 8]) };
  const r = trainStep(m, opt, [{ x: randomArray(12 * 16 * 16 * 3, 4), labels, mix }], 'bce', 0.1);
  for (const v of m.params.trainable.values()) outputs.push(Array.from(v.dataSync()));
  return { threads: got, patchesUndone: URL.createObjectURL === createObjectURL && os.cpus === cpus, outputs, loss: r.loss };
}

const childThreads = process.env['WASM_THREADS_CHILD'];
if (childThreads) {
  process.stdout.write(`${JSON.stringify(await childMain(Number(childThreads)))}\n`);
} else {
  const run = (threads: number): ChildOutput => {
    const env: NodeJS.ProcessEnv = { ...process.env, WASM_THREADS_CHILD: String(threads) };
    delete env['NODE_TEST_CONTEXT'];
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], { env, encoding: 'utf8', timeout: 240_000, maxBuffer: 1 << 27 });
    assert.equal(r.error, undefined, `child with ${threads} thread(s) did not finish: ${r.error?.message}`);
    assert.equal(r.status, 0, `child with ${threads} thread(s) failed: ${r.stderr.slice(-2000)}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOutput;
  };

  test('2 wasm threads give the results of 1 thread, and the process exits by itself', () => {
    const one = run(1);
    const two = run(2);
    assert.equal(one.threads, 1);
    assert.equal(two.threads, 2);
    assert.ok(two.patchesUndone, 'URL.createObjectURL and os.cpus are restored after initialisation');
    assert.ok(Math.abs(one.loss - two.loss) <= 1e-6 * Math.abs(one.loss), `loss ${two.loss} vs ${one.loss}`);
    assert.equal(two.outputs.length, one.outputs.length);
    one.outputs.forEach((ref, k) => {
      const got = two.outputs[k];
      assert.equal(got.length, ref.length);
      let err = 0;
      let scale = 1;
      for (let i = 0; i < ref.length; i++) {
        scale = Math.max(scale, Math.abs(ref[i]));
        err = Math.max(err, Math.abs(got[i] - ref[i]));
      }
      assert.ok(err <= 1e-5 * scale, `output ${k}: max difference ${err.toExponential(2)} at scale ${scale.toExponential(2)}`);
    });
  });
}

/**
 * Peak wasm heap of one PreActResNet18 training step, for calibrating the memory plan
 * (src/train/memory.ts). Each configuration runs in a fresh process, since the wasm heap
 * only grows.
 *
 *   node dist/scripts/bench-memory.js            # the table
 *   node dist/scripts/bench-memory.js one W B H C  # one measurement (used by the table)
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { sampleMix } from '../src/mixup/mix.js';
import { createModel } from '../src/models/registry.js';
import { selectBackend } from '../src/runtime/backend.js';
import { Rng } from '../src/runtime/rng.js';
import { BYTES_PER_ACTIVATION, BYTES_PER_PARAMETER, stepBytes } from '../src/train/memory.js';
import { Sgd } from '../src/train/optimizer.js';
import { trainStep } from '../src/train/step.js';

async function one(width: number, batch: number, hw: number, c: number) {
  await selectBackend('wasm');
  const m = createModel('preactresnet18', { inputShape: [hw, hw, c], classes: 10, width, finalBn: false }, 0);
  const opt = new Sgd(m.params.trainable, { momentum: 0.9, nesterov: true, weight_decay: 1e-4 });
  const rng = new Rng(0);
  const x = Float32Array.from({ length: batch * hw * hw * c }, () => rng.normal());
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const settings = { mode: 'manifold' as const, alpha: 2, layers: [0] };
  trainStep(m, opt, [{ x, labels, mix: sampleMix(rng, settings, batch) }], 'bce', 0.1);
  // HEAPU8 is on the Emscripten module although its typings omit it.
  const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.byteLength;
  const fixed = m.params.countTrainable() * BYTES_PER_PARAMETER;
  console.log(JSON.stringify({ heap, perActivation: (heap - fixed) / (batch * m.activationsPerExample), planned: stepBytes(m, batch) }));
}

const args = process.argv.slice(2);
if (args[0] === 'one') {
  await one(...(args.slice(1, 5).map(Number) as [number, number, number, number]));
} else {
  const self = fileURLToPath(import.meta.url);
  console.log(`plan: ${BYTES_PER_PARAMETER} bytes per parameter + ${BYTES_PER_ACTIVATION} per residual-stream element`);
  console.log('width batch input   heap MiB   bytes per element beyond the parameters   heap ÷ plan');
  for (const [w, b, hw, c] of [[16, 32, 32, 3], [32, 32, 32, 3], [64, 8, 32, 3], [64, 16, 32, 3], [64, 32, 32, 3], [64, 48, 32, 3], [64, 100, 32, 3], [64, 32, 28, 1]]) {
    try {
      const out = JSON.parse(execFileSync(process.execPath, [self, 'one', String(w), String(b), String(hw), String(c)], { encoding: 'utf8' }).trim().split('\n').pop()!);
      console.log(`${String(w).padStart(5)} ${String(b).padStart(5)} ${`${hw}x${hw}x${c}`.padStart(7)} ${(out.heap / 2 ** 20).toFixed(0).padStart(9)}   ${out.perActivation.toFixed(1).padStart(40)}   ${(out.heap / out.planned).toFixed(2).padStart(10)}`);
    } catch (e) {
      console.log(`${w} ${b} ${hw}: failed (${(e as Error).message.split('\n')[0]})`);
    }
  }
}

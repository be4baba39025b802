/**
 * A run's last checkpoint evaluated on its dataset's FULL test set (test_limit ignored), with
 * mixup-run's own `evaluate`; optionally the logits as .npz, for scripts/pytorch-parity.py
 * check-export to compare with the reference network.
 *
 *   node dist/scripts/eval-checkpoint.js RUN_DIR [--logits FILE.npz] [--backend wasm|cpu]
 */
import * as tf from '@tensorflow/tfjs';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/load.js';
import { makeBatch } from '../src/data/batches.js';
import { loadDataset } from '../src/data/load.js';
import { evaluate } from '../src/eval/metrics.js';
import { encodeNpz } from '../src/models/npz.js';
import { buildModel } from '../src/train/experiment.js';
import { transformFor } from '../src/train/loop.js';
import { readTensors } from '../src/train/checkpoint.js';
import { selectBackend, type BackendChoice } from '../src/runtime/backend.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const run = args[0];
if (!run || run.startsWith('--')) {
  process.stderr.write('usage: node dist/scripts/eval-checkpoint.js RUN_DIR [--logits FILE.npz] [--backend wasm|cpu]\n');
  process.exit(2);
}

const { config } = loadConfig(join(run, 'config.yaml'));
await selectBackend((flag('--backend') as BackendChoice | undefined) ?? 'wasm');
const data = loadDataset({ ...config.dataset, test_limit: null }, config.seed);
const model = buildModel(config);
const { tensors } = readTensors(join(run, 'checkpoint'), 'model.json');
for (const [name, v] of [...model.params.trainable, ...model.params.buffers]) {
  const t = tensors.get(name);
  if (!t) throw new Error(`checkpoint has no ${name}`);
  v.assign(t);
}
tf.dispose([...tensors.values()]);

const t = transformFor(config, data, false);
const m = evaluate(model, data.test, t, 200);
process.stdout.write(`mixup-run evaluate: ${m.n} test images, accuracy ${(100 * m.acc).toFixed(2)}%, NLL ${m.nll.toFixed(4)}\n`);

const logitsFile = flag('--logits');
if (logitsFile) {
  const all = new Float32Array(data.test.n * model.classes);
  const [h, w, c] = model.inputShape;
  for (let start = 0; start < data.test.n; start += 200) {
    const idx = Int32Array.from({ length: Math.min(200, data.test.n - start) }, (_, i) => start + i);
    const b = makeBatch(data.test, idx, t, null);
    const logits = tf.tidy(() => model.forward(tf.tensor4d(b.x, [b.size, h, w, c]), { training: false }));
    all.set(logits.dataSync(), start * model.classes);
    logits.dispose();
  }
  writeFileSync(logitsFile, encodeNpz([['logits', { shape: [data.test.n, model.classes], data: all }]]));
  process.stdout.write(`logits → ${logitsFile}\n`);
}
model.params.dispose();

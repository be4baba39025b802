/**
 * Clean test metrics in eval mode (BatchNorm running statistics): accuracy, error and NLL
 * (cross-entropy of softmax(logits) against the hard label, natural log, mean per example).
 */
import * as tf from '@tensorflow/tfjs';
import { makeBatch, type Transform } from '../data/batches.js';
import type { Split } from '../data/load.js';
import type { Model } from '../models/model.js';
import { nllPerExample } from '../train/loss.js';

export interface CleanMetrics {
  n: number;
  acc: number;
  err: number;
  nll: number;
}

export function evaluate(model: Model, split: Split, t: Transform, batchSize: number): CleanMetrics {
  const [h, w, c] = model.inputShape;
  let correct = 0;
  let nllSum = 0;
  for (let start = 0; start < split.n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, split.n - start) }, (_, i) => start + i);
    const b = makeBatch(split, idx, t, null);
    const [k, s] = tf.tidy(() => {
      const logits = model.forward(tf.tensor4d(b.x, [b.size, h, w, c]), { training: false });
      const labels = tf.tensor1d(b.y, 'int32');
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
      return [hits, tf.sum(nllPerExample(logits, labels))];
    });
    correct += k.dataSync()[0];
    nllSum += s.dataSync()[0];
    tf.dispose([k, s]);
  }
  const acc = correct / split.n;
  return { n: split.n, acc, err: 1 - acc, nll: nllSum / split.n };
}

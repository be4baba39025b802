/**
 * Mixup at a stage boundary (SPEC §1): per batch, one layer k from the eligible set, one
 * λ ~ Beta(α, α) (raw, no max(λ, 1−λ)), one permutation π (self-pairs allowed);
 *   h̃ = λ·h + (1−λ)·h[π],   ỹ = λ·y + (1−λ)·y[π].
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng.js';

export interface MixSample {
  layer: number;
  lambda: number;
  perm: Int32Array;
}

export interface MixupSettings {
  mode: 'none' | 'input' | 'manifold';
  alpha: number | null;
  layers: number[];
}

/** Draws (k, λ, π) for a batch of `n`, or null when the mode does not mix. */
export function sampleMix(rng: Rng, m: MixupSettings, n: number): MixSample | null {
  if (m.mode === 'none') return null;
  if (m.alpha === null || !(m.alpha > 0)) throw new Error(`mixup alpha must be > 0, got ${m.alpha}`);
  const layer = m.layers.length === 1 ? m.layers[0] : m.layers[rng.int(m.layers.length)];
  const lambda = rng.beta(m.alpha, m.alpha);
  const perm = rng.permutation(n);
  return { layer, lambda, perm };
}

export function inversePermutation(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}

/**
 * Rows of `h` in the order `perm`. Its gradient is the rows of dy in the inverse order:
 * exact for a permutation, and cheaper than gather's general scatter-add gradient.
 */
export function permuteRows<T extends tf.Tensor>(h: T, perm: Int32Array): T {
  const f = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([]);
    return {
      value: tf.tidy(() => {
        const idx = tf.tensor1d(perm, 'int32');
        return tf.gather(x as tf.Tensor, idx);
      }),
      gradFunc: (dy: tf.Tensor) => tf.tidy(() => tf.gather(dy, tf.tensor1d(inversePermutation(perm), 'int32'))),
    };
  });
  return f(h) as T;
}

/** λ·h + (1−λ)·h[π], differentiable in h. */
export function mixHidden<T extends tf.Tensor>(h: T, s: MixSample): T {
  return tf.add(tf.mul(h, s.lambda), tf.mul(permuteRows(h, s.perm), 1 - s.lambda)) as T;
}

/** One-hot targets [n, classes], mixed when a sample is given. Computed in JS: no gradient needed. */
export function mixedTargets(labels: Int32Array, classes: number, s: MixSample | null): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    if (s === null) {
      out[i * classes + labels[i]] = 1;
    } else {
      out[i * classes + labels[i]] += s.lambda;
      out[i * classes + labels[s.perm[i]]] += 1 - s.lambda;
    }
  }
  return out;
}

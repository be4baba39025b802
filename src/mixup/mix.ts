/**
 * Mixup at a stage boundary (SPEC §1): per batch, one layer k from the eligible set, one
 * λ ~ Beta(α, α) (raw, no max(λ, 1−λ)), one permutation π (self-pairs allowed);
 *   h̃ = λ·h + (1−λ)·h[π],   ỹ = λ·y + (1−λ)·y[π].
 * Per-example sampling (an option; the paper reports it performs the same) draws k_i and λ_i
 * for every example and pairs each example with a partner of the same k, so that a partner's
 * hidden state is still unmixed when the forward reaches k.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../runtime/rng.js';

export interface MixSample {
  layer: number;
  lambda: number;
  perm: Int32Array;
}

/** Per-example draws: example i mixes at layers[i] with lambdas[i] and partner perm[i]. */
export interface ExampleMix {
  layers: Int32Array;
  lambdas: Float32Array;
  perm: Int32Array;
}

export interface MixupSettings {
  mode: 'none' | 'input' | 'manifold';
  alpha: number | null;
  layers: number[];
  per_example?: boolean;
}

export const isExampleMix = (s: MixSample | ExampleMix): s is ExampleMix => 'lambdas' in s;

/** Draws (k, λ, π) for a batch of `n`, or null when the mode does not mix. */
export function sampleMix(rng: Rng, m: MixupSettings, n: number): MixSample | ExampleMix | null {
  if (m.mode === 'none') return null;
  if (m.alpha === null || !(m.alpha > 0)) throw new Error(`mixup alpha must be > 0, got ${m.alpha}`);
  if (m.per_example) return sampleExampleMix(rng, m.layers, m.alpha, n);
  const layer = m.layers.length === 1 ? m.layers[0] : m.layers[rng.int(m.layers.length)];
  const lambda = rng.beta(m.alpha, m.alpha);
  const perm = rng.permutation(n);
  return { layer, lambda, perm };
}

/** k_i, λ_i per example; π a permutation within each group of equal k. */
export function sampleExampleMix(rng: Rng, eligible: number[], alpha: number, n: number): ExampleMix {
  const layers = Int32Array.from({ length: n }, () => eligible[rng.int(eligible.length)]);
  const lambdas = Float32Array.from({ length: n }, () => rng.beta(alpha, alpha));
  const perm = new Int32Array(n);
  for (const k of new Set(layers)) {
    const members = [...layers.keys()].filter((i) => layers[i] === k);
    const shuffled = rng.permutation(members.length);
    members.forEach((i, j) => (perm[i] = members[shuffled[j]]));
  }
  return { layers, lambdas, perm };
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

/**
 * At boundary `layer`, the per-example draws as h̃_i = a_i·h_i + (1−a_i)·h_π(i), with a_i = λ_i
 * for the examples that mix here and 1 (unchanged) for the others.
 */
export function mixExamplesAt<T extends tf.Tensor>(h: T, s: ExampleMix, layer: number): T {
  const a = Float32Array.from(s.lambdas, (lam, i) => (s.layers[i] === layer ? lam : 1));
  const shape = [a.length, ...h.shape.slice(1).map(() => 1)];
  return tf.tidy(() => {
    const coef = tf.tensor(a, shape);
    return tf.add(tf.mul(h, coef), tf.mul(permuteRows(h, s.perm), tf.sub(1, coef))) as T;
  });
}

/** One-hot targets [n, classes], mixed when a sample is given. Computed in JS: no gradient needed. */
export function mixedTargets(labels: Int32Array, classes: number, s: MixSample | ExampleMix | null): Float32Array {
  const n = labels.length;
  const out = new Float32Array(n * classes);
  for (let i = 0; i < n; i++) {
    if (s === null) {
      out[i * classes + labels[i]] = 1;
    } else {
      const lam = isExampleMix(s) ? s.lambdas[i] : s.lambda;
      out[i * classes + labels[i]] += lam;
      out[i * classes + labels[s.perm[i]]] += 1 - lam;
    }
  }
  return out;
}

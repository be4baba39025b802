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

/**
 * The n×n matrix that mixes rows: row i holds a_i at column i and 1 − a_i at column π(i)
 * (a single 1 for a self-pair, or when a_i = 1).
 */
export function mixMatrix(coef: ArrayLike<number>, perm: Int32Array): Float32Array {
  const n = perm.length;
  // Summed in float64, so a self-pair's λ + (1 − λ) is exactly 1.
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    m[i * n + i] += coef[i];
    m[i * n + perm[i]] += 1 - coef[i];
  }
  return Float32Array.from(m);
}

/**
 * M·h along the batch axis, differentiable in h (gradient Mᵀ·dy). One matrix product does the
 * gather, the two scalings and the sum of λ·h + (1−λ)·h[π] in one kernel on every backend, and
 * keeps no full-size tensor for the backward pass. Forward and backward at 32×32×32×64: 7 ms
 * against 28 ms for those four ops on oneDNN; 22 against 12 ms on wasm, < 0.5 % of its step.
 */
export function mixRows<T extends tf.Tensor>(h: T, m: Float32Array): T {
  const n = h.shape[0];
  const mt = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mt[j * n + i] = m[i * n + j];
  const product = (matrix: Float32Array, x: tf.Tensor) =>
    tf.tidy(() => tf.reshape(tf.matMul(tf.tensor2d(matrix, [n, n]), tf.reshape(x, [n, -1])), x.shape));
  const f = tf.customGrad((x, save) => {
    (save as tf.GradSaveFunc)([]);
    return { value: product(m, x as tf.Tensor), gradFunc: (dy: tf.Tensor) => product(mt, dy) };
  });
  return f(h) as T;
}

/** λ·h + (1−λ)·h[π], differentiable in h. */
export function mixHidden<T extends tf.Tensor>(h: T, s: MixSample): T {
  return mixRows(h, mixMatrix(new Float64Array(s.perm.length).fill(s.lambda), s.perm));
}

/**
 * At boundary `layer`, the per-example draws as h̃_i = a_i·h_i + (1−a_i)·h_π(i), with a_i = λ_i
 * for the examples that mix here and 1 (unchanged) for the others.
 */
export function mixExamplesAt<T extends tf.Tensor>(h: T, s: ExampleMix, layer: number): T {
  const a = Float64Array.from(s.lambdas, (lam, i) => (s.layers[i] === layer ? lam : 1));
  return mixRows(h, mixMatrix(a, s.perm));
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

/**
 * White-box, untargeted gradient-sign attacks on a model in eval mode (BatchNorm running
 * statistics), SPEC §5:
 *   FGSM  z_adv = z + ε·sign(∇_z ℓ(f(z), y)), one step;
 *   PGD   z ← Π(z + α·sign(∇_z ℓ)), repeated, Π projecting onto the ε-ball around the clean z.
 * The attacked variable z is either the [0,1] image ('pixel': the model sees (z − mean)/std,
 * inside the differentiated function) or the normalized input itself ('normalized').
 * Clipping keeps a valid image: [0,1] in pixel space, its normalized image otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { makeBatch, type Transform } from '../data/batches.js';
import type { Split } from '../data/load.js';
import type { Model } from '../models/model.js';
import { bceOnSoftmax, nllPerExample } from '../train/loss.js';

export type AttackName = 'fgsm' | 'pgd';
export type AttackSpace = 'pixel' | 'normalized';
export type AttackLoss = 'ce' | 'bce';

export interface AttackSetting {
  attack: AttackName;
  /** Radius of the L∞ ball, in units of the attacked space. */
  eps: number;
  /** ε as the user wrote it, e.g. `8/255`. */
  epsText: string;
  space: AttackSpace;
  clip: boolean;
  loss: AttackLoss;
  /** Signed-gradient steps: 1 for FGSM. */
  steps: number;
  /** PGD's step size α; null for FGSM (its step is ε). */
  stepSize: number | null;
}

/** Per-channel normalization the model was trained with. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** The model's input for the attacked variable z. */
export function toModelInput(z: tf.Tensor4D, space: AttackSpace, norm: Normalization): tf.Tensor4D {
  return space === 'pixel' ? tf.div(tf.sub(z, norm.mean), norm.std) : z;
}

/** Per-channel bounds of a valid image ([0,1] pixels) in the attacked space. */
export function validRange(space: AttackSpace, norm: Normalization): { lo: number[]; hi: number[] } {
  if (space === 'pixel') return { lo: norm.mean.map(() => 0), hi: norm.mean.map(() => 1) };
  return { lo: norm.mean.map((m, c) => -m / norm.std[c]), hi: norm.mean.map((m, c) => (1 - m) / norm.std[c]) };
}

function clipToRange(z: tf.Tensor4D, space: AttackSpace, norm: Normalization): tf.Tensor4D {
  const { lo, hi } = validRange(space, norm);
  return tf.minimum(tf.maximum(z, lo), hi);
}

/**
 * The attack's loss summed over the batch. In eval mode examples do not interact, so the
 * gradient of the sum is each example's own gradient, at full scale (a batch mean would
 * shrink it by 1/N, and the sign of an underflowed 0 is 0).
 */
export function attackLoss(logits: tf.Tensor2D, labels: tf.Tensor1D, loss: AttackLoss): tf.Scalar {
  return tf.tidy(() => {
    if (loss === 'ce') return tf.sum(nllPerExample(logits, labels)) as tf.Scalar;
    const [n, c] = logits.shape;
    return tf.mul(bceOnSoftmax(logits, tf.oneHot(labels, c) as tf.Tensor2D), n * c) as tf.Scalar;
  });
}

/** sign(∇_z ℓ(f(z), y)), the model in eval mode. */
export function gradientSign(model: Model, z: tf.Tensor4D, labels: tf.Tensor1D, s: Pick<AttackSetting, 'space' | 'loss'>, norm: Normalization): tf.Tensor4D {
  return tf.tidy(() => {
    const lossOf = (zIn: tf.Tensor) => attackLoss(model.forward(toModelInput(zIn as tf.Tensor4D, s.space, norm), { training: false }), labels, s.loss);
    return tf.sign(tf.grad(lossOf)(z)) as tf.Tensor4D;
  });
}

/** FGSM: z + ε·sign(∇_z ℓ), clipped to a valid image when `s.clip`. */
export function fgsm(model: Model, z: tf.Tensor4D, labels: tf.Tensor1D, s: AttackSetting, norm: Normalization): tf.Tensor4D {
  return tf.tidy(() => {
    const adv = tf.add(z, tf.mul(gradientSign(model, z, labels, s, norm), s.eps)) as tf.Tensor4D;
    return s.clip ? clipToRange(adv, s.space, norm) : adv;
  });
}

/**
 * PGD from the clean point (no random start): `steps` signed steps of size α, each followed
 * by projection onto the ε-ball around z and, when `s.clip`, onto the valid image.
 */
export function pgd(model: Model, z: tf.Tensor4D, labels: tf.Tensor1D, s: AttackSetting, norm: Normalization): tf.Tensor4D {
  const alpha = s.stepSize ?? s.eps;
  let adv = tf.clone(z);
  for (let i = 0; i < s.steps; i++) {
    const next = tf.tidy(() => {
      const stepped = tf.add(adv, tf.mul(gradientSign(model, adv, labels, s, norm), alpha));
      const projected = tf.add(z, tf.clipByValue(tf.sub(stepped, z), -s.eps, s.eps)) as tf.Tensor4D;
      return s.clip ? clipToRange(projected, s.space, norm) : projected;
    });
    adv.dispose();
    adv = next;
  }
  return adv;
}

/** The adversarial version of z under a setting. */
export function attack(model: Model, z: tf.Tensor4D, labels: tf.Tensor1D, s: AttackSetting, norm: Normalization): tf.Tensor4D {
  return s.attack === 'fgsm' ? fgsm(model, z, labels, s, norm) : pgd(model, z, labels, s, norm);
}

/**
 * Unbounded PGD (SPEC §5's gradient-masking check) as a setting: after k steps of size α
 * no pixel has moved more than k·α, so the ball of radius steps·α never binds.
 */
export function unboundedPgd(steps: number, stepSize: number, rest: Pick<AttackSetting, 'space' | 'clip' | 'loss'>): AttackSetting {
  return { attack: 'pgd', eps: steps * stepSize, epsText: 'unbounded', steps, stepSize, ...rest };
}

export interface AttackResult {
  setting: AttackSetting;
  /** Fractions in [0, 1]. */
  accuracy: number;
  /** Accuracy on the clean inputs, computed the same way in the same space (= accuracy at ε = 0). */
  clean_accuracy: number;
}

export interface AttackOptions {
  norm: Normalization;
  batchSize: number;
  /** Called after each batch with the examples done so far. */
  onProgress?: (done: number, total: number) => void;
}

/** How many of the batch the model classifies correctly, given the attacked variable z. */
function correct(model: Model, z: tf.Tensor4D, labels: tf.Tensor1D, space: AttackSpace, norm: Normalization): number {
  const hits = tf.tidy(() => {
    const logits = model.forward(toModelInput(z, space, norm), { training: false });
    return tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32'));
  });
  const k = hits.dataSync()[0];
  hits.dispose();
  return k;
}

/** Accuracy of `model` on every example of `split` under each setting, with the clean accuracy beside it. */
export function attackAccuracy(model: Model, split: Split, settings: AttackSetting[], opts: AttackOptions): AttackResult[] {
  const [h, w, c] = model.inputShape;
  const { norm, batchSize } = opts;
  // makeBatch with mean 0, std 1 yields the [0,1] pixels; with the run's mean/std, the model's input.
  const transforms: Record<AttackSpace, Transform> = {
    pixel: { shape: model.inputShape, mean: norm.mean.map(() => 0), std: norm.std.map(() => 1), cropPadding: 0, flip: false },
    normalized: { shape: model.inputShape, mean: norm.mean, std: norm.std, cropPadding: 0, flip: false },
  };
  const spaces = [...new Set(settings.map((s) => s.space))];
  const clean = new Map<AttackSpace, number>(spaces.map((sp) => [sp, 0]));
  const adversarial = settings.map(() => 0);
  for (let start = 0; start < split.n; start += batchSize) {
    const idx = Int32Array.from({ length: Math.min(batchSize, split.n - start) }, (_, i) => start + i);
    for (const space of spaces) {
      const b = makeBatch(split, idx, transforms[space], null);
      const z = tf.tensor4d(b.x, [b.size, h, w, c]);
      const labels = tf.tensor1d(b.y, 'int32');
      try {
        clean.set(space, clean.get(space)! + correct(model, z, labels, space, norm));
        settings.forEach((s, i) => {
          if (s.space !== space) return;
          const adv = attack(model, z, labels, s, norm);
          adversarial[i] += correct(model, adv, labels, space, norm);
          adv.dispose();
        });
      } finally {
        tf.dispose([z, labels]);
      }
    }
    opts.onProgress?.(start + idx.length, split.n);
  }
  return settings.map((s, i) => ({ setting: s, accuracy: adversarial[i] / split.n, clean_accuracy: clean.get(s.space)! / split.n }));
}

/** The first `limit` examples of a split (all when null or larger). */
export function firstExamples(split: Split, limit: number | null, pixelsPerImage: number): Split {
  if (limit === null || limit >= split.n) return split;
  return { images: split.images.subarray(0, limit * pixelsPerImage), labels: split.labels.subarray(0, limit), n: limit };
}

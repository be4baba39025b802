/**
 * Training losses (SPEC §1) and the test NLL. All return a scalar mean.
 */
import * as tf from '@tensorflow/tfjs';

export type LossName = 'bce' | 'ce';

/**
 * log(t) clamped below at −100, as PyTorch's BCELoss does (log 0 = −∞ → −100). Its gradient
 * is 1/t where the log is not clamped and 0 where it is, so t = 0 gives no NaN.
 */
const clampedLog = tf.customGrad((t, save) => {
  const x = t as tf.Tensor;
  const logT = tf.maximum(tf.log(x), -100);
  (save as tf.GradSaveFunc)([x, logT]);
  return {
    value: logT,
    gradFunc: (dy: tf.Tensor, [xs, ls]: tf.Tensor[]) => tf.tidy(() => tf.where(tf.greater(ls, -100), tf.div(dy, xs), tf.zerosLike(dy))),
  };
}) as (t: tf.Tensor) => tf.Tensor;

/**
 * The official code's loss: binary cross-entropy on softmax probabilities against the
 * (mixed) one-hot target, averaged over batch × classes:
 *   mean_{i,c} −[ỹ log p + (1−ỹ) log(1−p)],  p = softmax(logits).
 */
export function bceOnSoftmax(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => {
    const p = tf.softmax(logits);
    const pos = tf.mul(target, clampedLog(p));
    const neg = tf.mul(tf.sub(1, target), clampedLog(tf.sub(1, p)));
    return tf.neg(tf.mean(tf.add(pos, neg))) as tf.Scalar;
  });
}

/** Soft-target cross-entropy, mean over the batch: −(1/N) Σ_i Σ_c ỹ_ic log softmax(z)_ic. */
export function softCrossEntropy(logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(logits)), 1))) as tf.Scalar);
}

export function trainingLoss(name: LossName, logits: tf.Tensor2D, target: tf.Tensor2D): tf.Scalar {
  return name === 'bce' ? bceOnSoftmax(logits, target) : softCrossEntropy(logits, target);
}

/** Per-example negative log-likelihood of the true labels (natural log): [N]. */
export function nllPerExample(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const onehot = tf.oneHot(labels, logits.shape[1]);
    return tf.neg(tf.sum(tf.mul(onehot, logp), 1)) as tf.Tensor1D;
  });
}

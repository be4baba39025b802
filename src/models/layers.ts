/**
 * Pure forward functions over explicit parameters. BatchNorm follows PyTorch: eps 1e-5,
 * batch statistics in training mode, running averages updated with momentum 0.1 using the
 * unbiased batch variance, running statistics in eval mode.
 */
import * as tf from '@tensorflow/tfjs';
import type { BatchNormParams } from './params.js';

export const BN_EPS = 1e-5;

/** Whether BatchNorm uses batch statistics, and where those statistics are collected. */
export interface ForwardContext {
  training: boolean;
  /**
   * Training mode: batch mean and (biased) variance of every BatchNorm layer run, kept
   * outside the step's tidy scope; the caller folds them into the running statistics
   * (`updateRunningStats`) and disposes them.
   */
  stats?: BatchStats[];
  /**
   * Differentiate training-mode BatchNorm-ReLU by autodiff of the textbook formula instead
   * of the fused closed form: a slower reference path for tests and debugging.
   */
  autodiffBatchNorm?: boolean;
}

export interface BatchStats {
  bn: BatchNormParams;
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
  /** Elements per channel that the statistics were computed over (N·H·W). */
  count: number;
  /** PyTorch's running-average factor for this layer (0.1 by default). */
  momentum: number;
}

const REDUCE_AXES = [0, 1, 2];

/**
 * Kernels a backend may register to run training-mode BatchNorm natively (the 'onednn'
 * backend does, src/runtime/native-kernels.ts):
 *   BN_TRAINING_KERNEL      {x, scale, offset}, varianceEpsilon → [y, mean, biased variance]
 *   BN_TRAINING_GRAD_KERNEL {dy, x, scale, offset, mean, variance}, varianceEpsilon → [dx, dscale, doffset]
 */
export const BN_TRAINING_KERNEL = 'BatchNormTrainingNHWC';
export const BN_TRAINING_GRAD_KERNEL = 'BatchNormTrainingNHWCGrad';

/**
 * Training-mode relu(BatchNorm(x)) as one differentiable unit. Every BN in these networks
 * feeds a ReLU, and tfjs frees nothing of a step until its backward pass ends, so the unit
 * keeps only tensors that outlive it anyway: x (an earlier layer's output) and its own output
 * a (the next conv's input). x̂ is recomputed in the backward and the ReLU mask is a > 0.
 * Kept separately, the BN output, x̂ and the ReLU's gradient would each add a full-size
 * tensor per layer: +40 % peak memory for PreActResNet18. The backward is the closed form
 *   dy = da·[a > 0],  dx = γ·invstd/M · (M·dy − Σdy − x̂·Σ(dy·x̂)),  dγ = Σ dy·x̂,  dβ = Σ dy,
 * which also avoids the full-size broadcasts (Tile) of autodiff through the moments.
 * The backend's native BN kernels run it where registered (the 'onednn' backend).
 */
function batchNormReluTrain(x: tf.Tensor4D, bn: BatchNormParams, ctx: ForwardContext, momentum: number): tf.Tensor4D {
  const count = x.shape[0] * x.shape[1] * x.shape[2];
  const native = tf.getKernel(BN_TRAINING_KERNEL, tf.getBackend()) != null;
  const attrs = { varianceEpsilon: BN_EPS };
  const f = tf.customGrad((xIn, gamma, beta, save) => {
    const xt = xIn as tf.Tensor4D;
    let y: tf.Tensor;
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (native) {
      [y, mean, variance] = tf.engine().runKernel(BN_TRAINING_KERNEL, { x: xt, scale: gamma as tf.Tensor, offset: beta as tf.Tensor }, attrs) as tf.Tensor[];
    } else {
      ({ mean, variance } = tf.moments(xt, REDUCE_AXES));
      const xhat = tf.mul(tf.sub(xt, mean), tf.rsqrt(tf.add(variance, BN_EPS)));
      y = tf.add(tf.mul(xhat, gamma as tf.Tensor), beta as tf.Tensor);
    }
    const a = tf.relu(y);
    (save as tf.GradSaveFunc)([xt, a, gamma as tf.Tensor, beta as tf.Tensor, mean, variance]);
    ctx.stats?.push({ bn, mean: tf.keep(tf.clone(mean)) as tf.Tensor1D, variance: tf.keep(tf.clone(variance)) as tf.Tensor1D, count, momentum });
    return {
      value: a,
      // tfjs runs a custom gradient outside any tidy scope: without this one, every
      // temporary here would live until the whole backward pass ends.
      gradFunc: (da: tf.Tensor, [sx, sa, sgamma, sbeta, smean, svariance]: tf.Tensor[]) =>
        tf.tidy(() => {
          const dy = tf.mul(da, tf.step(sa));
          if (native) {
            const inputs = { dy, x: sx, scale: sgamma, offset: sbeta, mean: smean, variance: svariance };
            return tf.engine().runKernel(BN_TRAINING_GRAD_KERNEL, inputs, attrs) as tf.Tensor[];
          }
          const invstd = tf.rsqrt(tf.add(svariance, BN_EPS));
          const xhat = tf.mul(tf.sub(sx, smean), invstd);
          const sumDy = tf.sum(dy, REDUCE_AXES);
          const sumDyXhat = tf.sum(tf.mul(dy, xhat), REDUCE_AXES);
          const scale = tf.div(tf.mul(sgamma, invstd), count);
          const dx = tf.mul(scale, tf.sub(tf.sub(tf.mul(dy, count), sumDy), tf.mul(xhat, sumDyXhat)));
          return [dx, sumDyXhat, sumDy];
        }),
    };
  });
  return f(x, bn.gamma, bn.beta) as tf.Tensor4D;
}

/**
 * BatchNorm alone: running statistics in eval mode; in training mode the textbook formula,
 * differentiated by autodiff (the reference that the fused unit is tested against).
 */
export function batchNorm(x: tf.Tensor4D, bn: BatchNormParams, ctx: ForwardContext, momentum = 0.1): tf.Tensor4D {
  if (ctx.training) {
    const { mean, variance } = tf.moments(x, REDUCE_AXES);
    ctx.stats?.push({ bn, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, count: x.shape[0] * x.shape[1] * x.shape[2], momentum });
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, BN_EPS))), bn.gamma), bn.beta);
  }
  return tf.tidy(() => {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.runningVar, BN_EPS)));
    const shift = tf.sub(bn.beta, tf.mul(bn.runningMean, scale));
    return tf.add(tf.mul(x, scale), shift);
  });
}

/** relu(BatchNorm(x)), the pre-activation of every block and head. */
export function batchNormRelu(x: tf.Tensor4D, bn: BatchNormParams, ctx: ForwardContext, momentum = 0.1): tf.Tensor4D {
  if (ctx.training && !ctx.autodiffBatchNorm) return batchNormReluTrain(x, bn, ctx, momentum);
  return tf.relu(batchNorm(x, bn, ctx, momentum));
}

/**
 * Folds collected batch statistics into the running averages, in the order the layers ran:
 * running = (1 − m)·running + m·batch, with the unbiased variance (PyTorch).
 */
export function updateRunningStats(stats: BatchStats[]): void {
  for (const s of stats) {
    tf.tidy(() => {
      const m = s.momentum;
      const unbiased = s.count > 1 ? tf.mul(s.variance, s.count / (s.count - 1)) : s.variance;
      s.bn.runningMean.assign(tf.add(tf.mul(s.bn.runningMean, 1 - m), tf.mul(s.mean, m)));
      s.bn.runningVar.assign(tf.add(tf.mul(s.bn.runningVar, 1 - m), tf.mul(unbiased, m)));
    });
  }
  disposeStats(stats);
}

export function disposeStats(stats: BatchStats[]): void {
  for (const s of stats) {
    s.mean.dispose();
    s.variance.dispose();
  }
  stats.length = 0;
}

/** 2-D convolution, NHWC, explicit symmetric zero padding as PyTorch's `padding=p`. */
export function conv2d(x: tf.Tensor4D, w: tf.Variable, stride: number, pad: number, bias?: tf.Variable): tf.Tensor4D {
  const y = tf.conv2d(x, w as tf.Tensor4D, stride, pad === 0 ? 'valid' : [[0, 0], [pad, pad], [pad, pad], [0, 0]]);
  return bias ? tf.add(y, bias) : y;
}

/** The classifier head: global average pool (the official avg_pool2d over the final map), then dense. */
export function poolAndClassify(x: tf.Tensor4D, w: tf.Variable, b: tf.Variable): tf.Tensor4D {
  const pooled = tf.mean(x, [1, 2]) as tf.Tensor2D;
  return tf.add(tf.matMul(pooled, w as tf.Tensor2D), b) as tf.Tensor4D;
}

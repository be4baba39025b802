/**
 * Pre-activation ResNet (He et al., "Identity Mappings in Deep Residual Networks", 2016),
 * CIFAR style as in the official Manifold Mixup code: 3×3 stem without BN/ReLU, four stages
 * of pre-act blocks, no final BN-ReLU unless asked, global average pool, linear head.
 * The forward is split at the stage boundaries where Manifold Mixup may mix (SPEC §1–2).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNorm, conv2d, relu, type ForwardContext } from './layers.js';
import { ParamStore, type BatchNormParams } from './params.js';
import type { Model, ModelOptions } from './model.js';

interface BasicBlock {
  bn1: BatchNormParams;
  conv1: tf.Variable;
  bn2: BatchNormParams;
  conv2: tf.Variable;
  shortcut?: tf.Variable;
  stride: number;
}

function basicBlock(p: ParamStore, name: string, inPlanes: number, planes: number, stride: number): BasicBlock {
  // Registration order matches PyTorch's module order: bn1, conv1, bn2, conv2, shortcut.
  const bn1 = p.batchNorm(`${name}.bn1`, inPlanes);
  const conv1 = p.conv(`${name}.conv1`, 3, inPlanes, planes);
  const bn2 = p.batchNorm(`${name}.bn2`, planes);
  const conv2 = p.conv(`${name}.conv2`, 3, planes, planes);
  const shortcut = stride !== 1 || inPlanes !== planes ? p.conv(`${name}.shortcut.0`, 1, inPlanes, planes) : undefined;
  return { bn1, conv1, bn2, conv2, shortcut, stride };
}

function basicForward(b: BasicBlock, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  const a = relu(batchNorm(x, b.bn1, ctx));
  // The projection shortcut sees the pre-activated input; the identity sees x itself.
  const sc = b.shortcut ? conv2d(a, b.shortcut, b.stride, 0) : x;
  let out = conv2d(a, b.conv1, b.stride, 1);
  out = conv2d(relu(batchNorm(out, b.bn2, ctx)), b.conv2, 1, 1);
  return tf.add(out, sc);
}

export const PREACT_DEPTHS = { preactresnet18: [2, 2, 2, 2] } as const;

export function preActResNet(arch: keyof typeof PREACT_DEPTHS, opts: ModelOptions, params: ParamStore): Model {
  const depths = PREACT_DEPTHS[arch];
  const [h, w, cin] = opts.inputShape;
  const width = opts.width;
  const stemStride = h >= 64 ? 2 : 1;
  const conv1 = params.conv('conv1', 3, cin, width);
  const stages: BasicBlock[][] = [];
  let inPlanes = width;
  let side = Math.ceil(h / stemStride);
  let activations = width * side * side;
  depths.forEach((n, s) => {
    const planes = width * 2 ** s;
    if (s > 0) side = Math.ceil(side / 2);
    activations += n * planes * side * side;
    const blocks: BasicBlock[] = [];
    for (let i = 0; i < n; i++) {
      blocks.push(basicBlock(params, `layer${s + 1}.${i}`, inPlanes, planes, i === 0 && s > 0 ? 2 : 1));
      inPlanes = planes;
    }
    stages.push(blocks);
  });
  const finalBn = opts.finalBn ? params.batchNorm('bn', inPlanes) : undefined;
  const linearW = params.dense('linear', inPlanes, opts.classes);
  const linearB = params.bias('linear', inPlanes, opts.classes);

  const runStage = (s: number, x: tf.Tensor4D, ctx: ForwardContext) => stages[s].reduce((hh, b) => basicForward(b, hh, ctx), x);

  // Segment i runs from mixing boundary i to boundary i+1 (the last one to the logits).
  const segments = [
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(0, conv2d(x, conv1, stemStride, 1), ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(1, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(2, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => {
      let out = runStage(3, x, ctx);
      if (finalBn) out = relu(batchNorm(out, finalBn, ctx));
      // Global average pool: the official avg_pool2d(out, 4) on the 4×4 final map.
      const pooled = tf.mean(out, [1, 2]) as tf.Tensor2D;
      return tf.add(tf.matMul(pooled, linearW as tf.Tensor2D), linearB) as tf.Tensor4D;
    },
  ];

  return {
    arch,
    params,
    inputShape: [h, w, cin],
    classes: opts.classes,
    mixLayers: [0, 1, 2, 3],
    activationsPerExample: activations,
    forward(x, ctx, mix) {
      let hh = x;
      segments.forEach((seg, i) => {
        if (mix && mix.layer === i) hh = mix.apply(hh);
        hh = seg(hh, ctx);
      });
      return hh as unknown as tf.Tensor2D;
    },
  };
}

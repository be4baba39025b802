/**
 * Wide Residual Network (Zagoruyko & Komodakis, "Wide Residual Networks", 2016) in the variant
 * of the official Manifold Mixup code (SPEC §2): every conv has a bias; in a block, conv1
 * (stride 1) runs on relu(bn1(x)) and conv2 carries the stage stride; the 1×1 projection
 * shortcut sees the raw block input x; no dropout. Head: relu(bn1(·)) whose running averages
 * move by 0.9 of the batch statistics (PyTorch momentum 0.9), global average pool, linear.
 * Module names follow the official code: conv1, layerN.i.{bn1,conv1,bn2,conv2,shortcut.0},
 * bn1 (the head), linear.
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormRelu, conv2d, poolAndClassify, type ForwardContext } from './layers.js';
import type { BatchNormParams, ParamStore } from './params.js';
import { segmentedModel, type Model, type ModelOptions } from './model.js';

/** The head BN's PyTorch momentum in the official code (`nn.BatchNorm2d(c, momentum=0.9)`). */
export const WRN_HEAD_BN_MOMENTUM = 0.9;

interface Conv {
  w: tf.Variable;
  b: tf.Variable;
}

interface WideBlock {
  bn1: BatchNormParams;
  conv1: Conv;
  bn2: BatchNormParams;
  conv2: Conv;
  shortcut?: Conv;
  stride: number;
}

function convWithBias(p: ParamStore, name: string, k: number, cin: number, cout: number): Conv {
  return { w: p.conv(name, k, cin, cout), b: p.bias(name, cin * k * k, cout) };
}

function wideBlock(p: ParamStore, name: string, inPlanes: number, planes: number, stride: number): WideBlock {
  return {
    bn1: p.batchNorm(`${name}.bn1`, inPlanes),
    conv1: convWithBias(p, `${name}.conv1`, 3, inPlanes, planes),
    bn2: p.batchNorm(`${name}.bn2`, planes),
    conv2: convWithBias(p, `${name}.conv2`, 3, planes, planes),
    shortcut: stride !== 1 || inPlanes !== planes ? convWithBias(p, `${name}.shortcut.0`, 1, inPlanes, planes) : undefined,
    stride,
  };
}

function blockForward(b: WideBlock, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  let out = conv2d(batchNormRelu(x, b.bn1, ctx), b.conv1.w, 1, 1, b.conv1.b);
  out = conv2d(batchNormRelu(out, b.bn2, ctx), b.conv2.w, b.stride, 1, b.conv2.b);
  const sc = b.shortcut ? conv2d(x, b.shortcut.w, b.stride, 0, b.shortcut.b) : x;
  return tf.add(out, sc);
}

/** Depth 6n+4 (n blocks per stage) and widening factor k. */
export const WRN_ARCHS = {
  wrn28_10: { depth: 28, k: 10 },
  wrn28_2: { depth: 28, k: 2 },
} as const satisfies Record<string, { depth: number; k: number }>;

export type WrnArch = keyof typeof WRN_ARCHS;

/**
 * `opts.width` is the stem's channel count (16 in the paper); the stages have width·k,
 * 2·width·k and 4·width·k channels. The head BN-ReLU is part of the architecture, so
 * `opts.finalBn` must be false.
 */
export function wideResNet(arch: WrnArch, opts: ModelOptions, params: ParamStore): Model {
  const { depth, k } = WRN_ARCHS[arch];
  if (opts.finalBn) throw new Error(`${arch} always ends in its BN-ReLU head; finalBn applies to preactresnet* only`);
  const n = (depth - 4) / 6;
  const [h, w, cin] = opts.inputShape;
  const stemStride = h >= 64 ? 2 : 1;
  const conv1 = convWithBias(params, 'conv1', 3, cin, opts.width);
  const stages: WideBlock[][] = [];
  let inPlanes = opts.width;
  let side = Math.ceil(h / stemStride);
  let activations = inPlanes * side * side;
  for (let s = 0; s < 3; s++) {
    const planes = opts.width * k * 2 ** s;
    const blocks: WideBlock[] = [];
    for (let i = 0; i < n; i++) {
      const stride = i === 0 && s > 0 ? 2 : 1;
      blocks.push(wideBlock(params, `layer${s + 1}.${i}`, inPlanes, planes, stride));
      // conv1 runs before the stride, at the input resolution: count the block there.
      activations += planes * side * side;
      side = Math.ceil(side / stride);
      inPlanes = planes;
    }
    stages.push(blocks);
  }
  const headBn = params.batchNorm('bn1', inPlanes);
  const linearW = params.dense('linear', inPlanes, opts.classes);
  const linearB = params.bias('linear', inPlanes, opts.classes);

  const runStage = (s: number, x: tf.Tensor4D, ctx: ForwardContext) => stages[s].reduce((hh, b) => blockForward(b, hh, ctx), x);

  // Segment i runs from mixing boundary i to boundary i+1: input, after stage 1, 2, 3.
  const segments = [
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(0, conv2d(x, conv1.w, stemStride, 1, conv1.b), ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(1, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(2, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => {
      // The official avg_pool2d(out, 8) on the 8×8 final map.
      return poolAndClassify(batchNormRelu(x, headBn, ctx, WRN_HEAD_BN_MOMENTUM), linearW, linearB);
    },
  ];

  return segmentedModel({ arch, params, inputShape: [h, w, cin], classes: opts.classes, activationsPerExample: activations }, segments);
}

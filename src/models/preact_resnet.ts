/**
 * Pre-activation ResNet (He et al., "Identity Mappings in Deep Residual Networks", 2016),
 * CIFAR style as in the official Manifold Mixup code: 3×3 stem without BN/ReLU, four stages
 * of pre-act blocks (basic for 18/34, bottleneck with expansion 4 for 50/101/152), no final
 * BN-ReLU unless asked, global average pool, linear head. The forward is split at the stage
 * boundaries where Manifold Mixup may mix (SPEC §1–2).
 */
import * as tf from '@tensorflow/tfjs';
import { batchNormRelu, conv2d, poolAndClassify, type ForwardContext } from './layers.js';
import { ParamStore, type BatchNormParams } from './params.js';
import { segmentedModel, type Model, type ModelOptions } from './model.js';

/** One BN-ReLU → conv unit of a pre-act block. */
interface Unit {
  bn: BatchNormParams;
  conv: tf.Variable;
  stride: number;
  pad: number;
}

/** A pre-act block: a chain of BN-ReLU → conv units plus the shortcut. */
interface PreActBlock {
  units: Unit[];
  /** 1×1 projection on the first pre-activation; absent = identity on the block input. */
  shortcut?: tf.Variable;
  stride: number;
}

export type PreActBlockType = 'basic' | 'bottleneck';

const EXPANSION: Record<PreActBlockType, number> = { basic: 1, bottleneck: 4 };

/**
 * Basic: bn1 → conv1 3×3 (stride) → bn2 → conv2 3×3. Bottleneck: bn1 → conv1 1×1 → bn2 →
 * conv2 3×3 (stride) → bn3 → conv3 1×1 to 4·planes. Registration order follows PyTorch's
 * module order (bn1, conv1, bn2, conv2, [bn3, conv3,] shortcut.0).
 */
function preActBlock(p: ParamStore, name: string, type: PreActBlockType, inPlanes: number, planes: number, stride: number): PreActBlock {
  const out = EXPANSION[type] * planes;
  const layout: [k: number, cin: number, cout: number, stride: number][] =
    type === 'basic'
      ? [[3, inPlanes, planes, stride], [3, planes, planes, 1]]
      : [[1, inPlanes, planes, 1], [3, planes, planes, stride], [1, planes, out, 1]];
  const units = layout.map(([k, cin, cout, s], i) => ({
    bn: p.batchNorm(`${name}.bn${i + 1}`, cin),
    conv: p.conv(`${name}.conv${i + 1}`, k, cin, cout),
    stride: s,
    pad: k === 3 ? 1 : 0,
  }));
  const shortcut = stride !== 1 || inPlanes !== out ? p.conv(`${name}.shortcut.0`, 1, inPlanes, out) : undefined;
  return { units, shortcut, stride };
}

function blockForward(b: PreActBlock, x: tf.Tensor4D, ctx: ForwardContext): tf.Tensor4D {
  const [first, ...rest] = b.units;
  const a = batchNormRelu(x, first.bn, ctx);
  // The projection shortcut sees the pre-activated input; the identity sees x itself.
  const sc = b.shortcut ? conv2d(a, b.shortcut, b.stride, 0) : x;
  let out = conv2d(a, first.conv, first.stride, first.pad);
  for (const u of rest) out = conv2d(batchNormRelu(out, u.bn, ctx), u.conv, u.stride, u.pad);
  return tf.add(out, sc);
}

export const PREACT_ARCHS = {
  preactresnet18: { block: 'basic', depths: [2, 2, 2, 2] },
  preactresnet34: { block: 'basic', depths: [3, 4, 6, 3] },
  preactresnet50: { block: 'bottleneck', depths: [3, 4, 6, 3] },
  preactresnet101: { block: 'bottleneck', depths: [3, 4, 23, 3] },
  preactresnet152: { block: 'bottleneck', depths: [3, 8, 36, 3] },
} as const satisfies Record<string, { block: PreActBlockType; depths: readonly number[] }>;

export type PreActArch = keyof typeof PREACT_ARCHS;

export function preActResNet(arch: PreActArch, opts: ModelOptions, params: ParamStore): Model {
  const { block, depths } = PREACT_ARCHS[arch];
  const [h, w, cin] = opts.inputShape;
  const width = opts.width;
  // 64×64 inputs (Tiny-ImageNet) get a stride-2 stem so the stages see 32×32 maps.
  const stemStride = h >= 64 ? 2 : 1;
  const conv1 = params.conv('conv1', 3, cin, width);
  const stages: PreActBlock[][] = [];
  let inPlanes = width;
  let side = Math.ceil(h / stemStride);
  let activations = width * side * side;
  depths.forEach((n, s) => {
    const planes = width * 2 ** s;
    if (s > 0) side = Math.ceil(side / 2);
    const blocks: PreActBlock[] = [];
    for (let i = 0; i < n; i++) {
      blocks.push(preActBlock(params, `layer${s + 1}.${i}`, block, inPlanes, planes, i === 0 && s > 0 ? 2 : 1));
      inPlanes = EXPANSION[block] * planes;
      activations += inPlanes * side * side;
    }
    stages.push(blocks);
  });
  const finalBn = opts.finalBn ? params.batchNorm('bn', inPlanes) : undefined;
  const linearW = params.dense('linear', inPlanes, opts.classes);
  const linearB = params.bias('linear', inPlanes, opts.classes);

  const runStage = (s: number, x: tf.Tensor4D, ctx: ForwardContext) => stages[s].reduce((hh, b) => blockForward(b, hh, ctx), x);

  // Segment i runs from mixing boundary i to boundary i+1 (the last one to the logits).
  const segments = [
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(0, conv2d(x, conv1, stemStride, 1), ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(1, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => runStage(2, x, ctx),
    (x: tf.Tensor4D, ctx: ForwardContext) => {
      let out = runStage(3, x, ctx);
      if (finalBn) out = batchNormRelu(out, finalBn, ctx);
      // The official avg_pool2d(out, 4) on the 4×4 final map.
      return poolAndClassify(out, linearW, linearB);
    },
  ];

  return segmentedModel({ arch, params, inputShape: [h, w, cin], classes: opts.classes, activationsPerExample: activations }, segments);
}

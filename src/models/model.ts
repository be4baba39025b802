/** What the training loop needs from a network, whatever its architecture. */
import type * as tf from '@tensorflow/tfjs';
import type { ForwardContext } from './layers.js';
import type { ParamStore } from './params.js';

export interface ModelOptions {
  /** H, W, C of the input. */
  inputShape: [number, number, number];
  classes: number;
  /** Base channels of the first stage (64 in the paper). */
  width: number;
  /** Final BN-ReLU before pooling (He et al.); the official code has none. */
  finalBn: boolean;
}

/** Mix the hidden state when the forward reaches boundary `layer` (0 = the input). */
export interface MixPoint {
  layer: number;
  apply: (h: tf.Tensor4D) => tf.Tensor4D;
}

export interface Model {
  arch: string;
  params: ParamStore;
  inputShape: [number, number, number];
  classes: number;
  /**
   * Elements of the residual stream one example produces across all blocks: a size proxy
   * for the activations a training step keeps, used to plan memory.
   */
  activationsPerExample: number;
  /** Stage boundaries where the forward can stop and mix. */
  mixLayers: number[];
  /** Logits [N, classes]; mixes at each given point's layer (several for per-example mixup). */
  forward(x: tf.Tensor4D, ctx: ForwardContext, mix?: MixPoint | MixPoint[]): tf.Tensor2D;
}

/** One stretch of the network, from one mixing boundary to the next (the last one to the logits). */
export type Segment = (x: tf.Tensor4D, ctx: ForwardContext) => tf.Tensor4D;

/**
 * A model whose forward runs `segments` in turn; boundary i (0 = the input) is the point before
 * segment i, where any mix point for layer i is applied.
 */
export function segmentedModel(parts: Omit<Model, 'forward' | 'mixLayers'>, segments: Segment[]): Model {
  return {
    ...parts,
    mixLayers: segments.map((_, i) => i),
    forward(x, ctx, mix) {
      const points = mix === undefined ? [] : Array.isArray(mix) ? mix : [mix];
      let h = x;
      segments.forEach((seg, i) => {
        for (const p of points) if (p.layer === i) h = p.apply(h);
        h = seg(h, ctx);
      });
      return h as unknown as tf.Tensor2D;
    },
  };
}

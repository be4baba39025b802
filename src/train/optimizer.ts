/**
 * SGD as torch.optim.SGD(momentum, nesterov, weight_decay) computes it: coupled L2 added to
 * the gradient of every parameter, then
 *   g ← g + wd·p;  buf ← μ·buf + g;  step = nesterov ? g + μ·buf : buf;  p ← p − lr·step.
 * (buf starts at zero, which equals PyTorch's buf = g on the first step since dampening is 0.)
 */
import * as tf from '@tensorflow/tfjs';

/**
 * A kernel a backend may register to run a parameter's whole update in one pass (the 'onednn'
 * backend does): {param, buffer, grad}, attrs {lr, momentum, weightDecay, nesterov} →
 * [param, buffer]. Elsewhere the update is eight elementwise ops, each a pass over the
 * parameter: a quarter of a step's time on oneDNN at width 64 before this kernel.
 */
export const SGD_UPDATE_KERNEL = 'SgdUpdate';

export interface SgdSettings {
  momentum: number;
  nesterov: boolean;
  weight_decay: number;
}

export class Sgd {
  readonly buffers = new Map<string, tf.Variable>();

  constructor(private readonly params: Map<string, tf.Variable>, private readonly s: SgdSettings) {
    for (const [name, p] of params) this.buffers.set(name, tf.variable(tf.zerosLike(p), false));
  }

  /** One update; `grads` is keyed by parameter name. */
  step(grads: Map<string, tf.Tensor>, lr: number): void {
    const { momentum: mu, nesterov, weight_decay: wd } = this.s;
    const fused = tf.getKernel(SGD_UPDATE_KERNEL, tf.getBackend()) != null;
    for (const [name, p] of this.params) {
      const grad = grads.get(name);
      if (!grad) throw new Error(`no gradient for parameter ${name}`);
      const buf = this.buffers.get(name)!;
      tf.tidy(() => {
        if (fused) {
          const attrs = { lr, momentum: mu, weightDecay: wd, nesterov };
          const [np, nb] = tf.engine().runKernel(SGD_UPDATE_KERNEL, { param: p, buffer: buf, grad }, attrs) as tf.Tensor[];
          buf.assign(nb);
          p.assign(np);
          return;
        }
        const g = wd > 0 ? tf.add(grad, tf.mul(p, wd)) : grad;
        const b = tf.add(tf.mul(buf, mu), g);
        buf.assign(b);
        const stepDir = nesterov ? tf.add(g, tf.mul(b, mu)) : b;
        p.assign(tf.sub(p, tf.mul(stepDir, lr)));
      });
    }
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

/** Step schedule: lr · γ^(number of milestones ≤ epoch), epochs counted from 0. */
export function learningRate(epoch: number, lr: number, milestones: number[], gamma: number): number {
  return lr * gamma ** milestones.filter((m) => m <= epoch).length;
}

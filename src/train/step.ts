/**
 * One optimizer step: forward (mixing where asked), loss, backward, SGD, BatchNorm running
 * statistics. A batch may come in several parts (micro-batches) whose gradients are
 * accumulated, weighted by their size, before the single update.
 */
import * as tf from '@tensorflow/tfjs';
import { isExampleMix, mixExamplesAt, mixHidden, mixedTargets, type ExampleMix, type MixSample } from '../mixup/mix.js';
import { disposeStats, updateRunningStats, type BatchStats } from '../models/layers.js';
import type { MixPoint, Model } from '../models/model.js';
import { trainingLoss, type LossName } from './loss.js';
import type { Sgd } from './optimizer.js';

export interface StepPart {
  /** n×H×W×C normalized images. */
  x: Float32Array;
  labels: Int32Array;
  mix: MixSample | ExampleMix | null;
}

export interface StepResult {
  /** Mean training loss over the batch. */
  loss: number;
  /** Examples whose prediction matches the dominant class of their (mixed) target. */
  correct: number;
}

/** Where and how the forward mixes: one boundary per batch, or every boundary some example uses. */
function mixPoints(mix: MixSample | ExampleMix | null): MixPoint[] {
  if (mix === null) return [];
  if (!isExampleMix(mix)) return [{ layer: mix.layer, apply: (h) => mixHidden(h, mix) }];
  return [...new Set(mix.layers)].map((layer) => ({ layer, apply: (h: tf.Tensor4D) => mixExamplesAt(h, mix, layer) }));
}

/** Forward and backward of one part: its loss, correct count and gradients by parameter name. */
function partGradients(model: Model, part: StepPart, lossName: LossName, stats: BatchStats[]) {
  const n = part.labels.length;
  const [h, w, c] = model.inputShape;
  let correct: tf.Scalar | undefined;
  const vars = [...model.params.trainable.values()];
  const { value, grads } = tf.variableGrads(() => {
    const x = tf.tensor4d(part.x, [n, h, w, c]);
    const target = tf.tensor2d(mixedTargets(part.labels, model.classes, part.mix), [n, model.classes]);
    const logits = model.forward(x, { training: true, stats }, mixPoints(part.mix));
    correct = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(target, 1)), 'float32'))) as tf.Scalar;
    return trainingLoss(lossName, logits, target);
  }, vars);
  const byName = new Map<string, tf.Tensor>();
  for (const [name, v] of model.params.trainable) byName.set(name, grads[v.name]);
  return { loss: value, correct: correct!, grads: byName };
}

export function trainStep(model: Model, opt: Sgd, parts: StepPart[], lossName: LossName, lr: number): StepResult {
  const total = parts.reduce((a, p) => a + p.labels.length, 0);
  const stats: BatchStats[] = [];
  try {
    if (parts.length === 1) {
      const r = partGradients(model, parts[0], lossName, stats);
      const loss = r.loss.dataSync()[0];
      const correct = r.correct.dataSync()[0];
      opt.step(r.grads, lr);
      tf.dispose([r.loss, r.correct, ...r.grads.values()]);
      updateRunningStats(stats);
      return { loss, correct };
    }
    // Micro-batches: each part's mean loss weighted by its share of the batch.
    let acc: Map<string, tf.Tensor> | null = null;
    let loss = 0;
    let correct = 0;
    for (const part of parts) {
      const r = partGradients(model, part, lossName, stats);
      const share = part.labels.length / total;
      loss += r.loss.dataSync()[0] * share;
      correct += r.correct.dataSync()[0];
      const prev: Map<string, tf.Tensor> | null = acc;
      const next = new Map<string, tf.Tensor>();
      for (const [name, g] of r.grads) {
        next.set(name, tf.tidy(() => (prev ? tf.add(prev.get(name)!, tf.mul(g, share)) : tf.mul(g, share))));
      }
      tf.dispose([r.loss, r.correct, ...r.grads.values(), ...(prev ? prev.values() : [])]);
      acc = next;
      // Running statistics follow each micro-batch in turn, as separate forwards would.
      updateRunningStats(stats);
    }
    opt.step(acc!, lr);
    tf.dispose([...acc!.values()]);
    return { loss, correct };
  } finally {
    disposeStats(stats);
  }
}

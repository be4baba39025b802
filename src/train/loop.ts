/**
 * The training loop: epochs of seeded, augmented batches; per step one mixup draw, one SGD
 * update; per epoch a clean evaluation in eval mode. It reports through `events` and never
 * touches files: the caller decides what to write.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../config/schema.js';
import { epochBatches, makeBatch, stepsPerEpoch, type Transform } from '../data/batches.js';
import type { Dataset } from '../data/load.js';
import { evaluate, type CleanMetrics } from '../eval/metrics.js';
import { sampleMix, type MixSample } from '../mixup/mix.js';
import type { Model } from '../models/model.js';
import { RunFailure } from '../runtime/errors.js';
import { Rng, type RngState } from '../runtime/rng.js';
import { learningRate, Sgd } from './optimizer.js';
import { trainStep, type StepPart } from './step.js';

export interface EpochRecord {
  /** 1-based: the number of epochs completed. */
  epoch: number;
  lr: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  test_err: number;
  seconds: number;
  images_per_s: number;
}

export interface StepProgress {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  acc: number;
  lr: number;
}

/** Everything needed to continue a run exactly where it stopped. */
export interface LoopState {
  /** Epochs completed. */
  epoch: number;
  rng: Record<StreamName, RngState>;
  records: EpochRecord[];
}

export interface TrainEvents {
  onEpochStart?(epoch: number, steps: number, lr: number): void;
  onStep?(p: StepProgress): void;
  /** After each epoch's evaluation; `snapshot` gives what a checkpoint needs. */
  onEpochEnd?(record: EpochRecord, snapshot: () => Snapshot): Promise<void>;
}

export interface Snapshot {
  weights: Map<string, tf.Tensor>;
  optimizer: Map<string, tf.Tensor>;
  state: LoopState;
}

export interface TrainResult {
  status: 'done' | 'interrupted';
  records: EpochRecord[];
  final: CleanMetrics | null;
  best: (CleanMetrics & { epoch: number }) | null;
  trainSeconds: number;
  imagesPerS: number;
}

const STREAMS = ['order', 'augment', 'mixup'] as const;
type StreamName = (typeof STREAMS)[number];

export interface TrainOptions {
  config: ExperimentConfig;
  model: Model;
  data: Dataset;
  /** Largest part a batch is split into (≥ batch size: no split). */
  microBatch: number;
  events?: TrainEvents;
  /** Polled between steps; true ends the run after the current step. */
  shouldStop?: () => boolean;
}

export function transformFor(config: ExperimentConfig, data: Dataset, train: boolean): Transform {
  return {
    shape: data.info.shape,
    mean: config.dataset.mean,
    std: config.dataset.std,
    cropPadding: train ? config.dataset.augment.crop_padding : 0,
    flip: train && config.dataset.augment.flip,
  };
}

/** Splits a batch into parts of at most `micro` examples; one (k, λ) for all, one π per part. */
function makeParts(x: Float32Array, labels: Int32Array, micro: number, mixRng: Rng, config: ExperimentConfig): StepPart[] {
  const n = labels.length;
  const per = x.length / n;
  const parts: StepPart[] = [];
  let first: MixSample | null = null;
  for (let s = 0; s < n; s += micro) {
    const e = Math.min(n, s + micro);
    let mix: MixSample | null;
    if (s === 0) mix = first = sampleMix(mixRng, config.mixup, e - s);
    else mix = first && { layer: first.layer, lambda: first.lambda, perm: mixRng.permutation(e - s) };
    parts.push({ x: x.subarray(s * per, e * per), labels: labels.subarray(s, e), mix });
  }
  return parts;
}

export async function train(opts: TrainOptions, resume?: { state: LoopState; optimizer: Map<string, tf.Tensor> }): Promise<TrainResult> {
  const { config, model, data, events } = opts;
  const t = config.train;
  const streams = Object.fromEntries(
    STREAMS.map((s) => [s, resume ? Rng.fromState(resume.state.rng[s]) : new Rng(config.seed, s)]),
  ) as Record<StreamName, Rng>;
  const opt = new Sgd(model.params.trainable, t);
  if (resume) for (const [name, buf] of opt.buffers) buf.assign(resume.optimizer.get(`${name}.momentum_buffer`) as tf.Tensor);
  const records: EpochRecord[] = resume ? [...resume.state.records] : [];
  const trainT = transformFor(config, data, true);
  const testT = transformFor(config, data, false);
  const steps = stepsPerEpoch(data.train.n, t.batch_size);
  let trainSeconds = records.reduce((a, r) => a + r.seconds, 0);
  let status: TrainResult['status'] = 'done';
  let final: CleanMetrics | null = null;

  try {
    for (let epoch = records.length; epoch < t.epochs; epoch++) {
      const lr = learningRate(epoch, t.lr, t.milestones, t.gamma);
      events?.onEpochStart?.(epoch + 1, steps, lr);
      const started = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      const batches = epochBatches(data.train.n, t.batch_size, streams.order);
      for (let step = 0; step < batches.length; step++) {
        const b = makeBatch(data.train, batches[step], trainT, streams.augment);
        const parts = makeParts(b.x, b.y, opts.microBatch, streams.mixup, config);
        const r = trainStep(model, opt, parts, t.loss, lr);
        if (!Number.isFinite(r.loss)) {
          throw new RunFailure(`training loss became ${r.loss} at epoch ${epoch + 1}, step ${step + 1}; lower train.lr or check the data`);
        }
        lossSum += r.loss * b.size;
        correct += r.correct;
        seen += b.size;
        events?.onStep?.({ epoch: epoch + 1, step: step + 1, steps, loss: lossSum / seen, acc: correct / seen, lr });
        // Let timers (progress redraws) and signal handlers run between steps.
        await new Promise((resolve) => setImmediate(resolve));
        if (opts.shouldStop?.()) {
          status = 'interrupted';
          break;
        }
      }
      if (status === 'interrupted') break;
      const seconds = (performance.now() - started) / 1000;
      trainSeconds += seconds;
      final = evaluate(model, data.test, testT, config.eval.batch_size);
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: lossSum / seen,
        train_acc: correct / seen,
        test_loss: final.nll,
        test_acc: final.acc,
        test_err: final.err,
        seconds,
        images_per_s: seen / seconds,
      };
      records.push(record);
      const snapshot = (): Snapshot => ({
        weights: new Map([...model.params.trainable, ...model.params.buffers]),
        optimizer: new Map([...opt.buffers].map(([k, v]) => [`${k}.momentum_buffer`, v])),
        state: {
          epoch: epoch + 1,
          rng: Object.fromEntries(STREAMS.map((s) => [s, streams[s].state()])) as Record<StreamName, RngState>,
          records: [...records],
        },
      });
      await events?.onEpochEnd?.(record, snapshot);
    }
  } finally {
    opt.dispose();
  }

  const bestRecord = records.reduce<EpochRecord | null>((b, r) => (b === null || r.test_acc > b.test_acc ? r : b), null);
  const last = records.at(-1);
  const images = records.length * data.train.n;
  return {
    status,
    records,
    final: last ? { n: data.test.n, acc: last.test_acc, err: last.test_err, nll: last.test_loss } : final,
    best: bestRecord && { n: data.test.n, acc: bestRecord.test_acc, err: bestRecord.test_err, nll: bestRecord.test_loss, epoch: bestRecord.epoch },
    trainSeconds,
    imagesPerS: trainSeconds > 0 ? images / trainSeconds : 0,
  };
}

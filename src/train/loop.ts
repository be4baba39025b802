/**
 * The training loop: epochs of seeded, augmented batches; per step one mixup draw, one SGD
 * update; per epoch a clean evaluation in eval mode. It reports through `events`, hands
 * checkpoints to `checkpoint`, and never touches files itself. A run can stop between any
 * two steps and continue from a snapshot with exactly the numbers it would have had.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../config/schema.js';
import { epochBatches, makeBatch, stepsPerEpoch, type Transform } from '../data/batches.js';
import type { Dataset } from '../data/load.js';
import { evaluate, type CleanMetrics } from '../eval/metrics.js';
import { isExampleMix, sampleMix, type ExampleMix, type MixSample, type MixupSettings } from '../mixup/mix.js';
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

const STREAMS = ['order', 'augment', 'mixup'] as const;
type StreamName = (typeof STREAMS)[number];

/** Everything needed to continue a run exactly where it stopped (JSON-serializable). */
export interface LoopState {
  /** Epochs completed. */
  epoch: number;
  /** Steps completed within the next epoch (0 at an epoch boundary). */
  step: number;
  /** Every stream's state now. */
  rng: Record<StreamName, RngState>;
  /** The order stream's state when the current epoch began, to rebuild its batch order. */
  epoch_order: RngState;
  /** Running sums of the current epoch. */
  partial: { loss_sum: number; correct: number; seen: number; seconds: number };
  records: EpochRecord[];
}

export interface Snapshot {
  weights: Map<string, tf.Tensor>;
  optimizer: Map<string, tf.Tensor>;
  state: LoopState;
  /** Why it was taken. */
  reason: 'epoch' | 'steps' | 'interrupt';
  /** True at an epoch end whose test accuracy is the best so far. */
  best: boolean;
}

export interface TrainEvents {
  onEpochStart?(epoch: number, steps: number, lr: number): void;
  onStep?(p: StepProgress): void;
  onEpochEnd?(record: EpochRecord): void;
}

export interface TrainResult {
  status: 'done' | 'interrupted';
  records: EpochRecord[];
  final: CleanMetrics | null;
  best: (CleanMetrics & { epoch: number }) | null;
  trainSeconds: number;
  imagesPerS: number;
}

export interface TrainOptions {
  config: ExperimentConfig;
  model: Model;
  data: Dataset;
  /** Largest part a batch is split into (≥ batch size: no split). */
  microBatch: number;
  events?: TrainEvents;
  /** Receives a snapshot at every epoch end, every `train.checkpoint_every` steps, and on interruption. */
  checkpoint?: (s: Snapshot) => Promise<void>;
  /** Polled between steps; true ends the run after the current step. */
  shouldStop?: () => boolean;
  /** Continue from a checkpoint. */
  resume?: { state: LoopState; optimizer: Map<string, tf.Tensor> };
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

/**
 * Splits a batch into parts of at most `micro` examples: per-batch mixup keeps one (k, λ) for
 * all parts with one π per part; per-example draws are made for each part.
 */
export function makeParts(x: Float32Array, labels: Int32Array, micro: number, mixRng: Rng, mixup: MixupSettings): StepPart[] {
  const n = labels.length;
  const per = x.length / n;
  const parts: StepPart[] = [];
  let first: MixSample | ExampleMix | null = null;
  for (let s = 0; s < n; s += micro) {
    const e = Math.min(n, s + micro);
    let mix: MixSample | ExampleMix | null;
    if (s === 0 || mixup.per_example) mix = first = sampleMix(mixRng, mixup, e - s);
    else mix = first && !isExampleMix(first) ? { layer: first.layer, lambda: first.lambda, perm: mixRng.permutation(e - s) } : null;
    parts.push({ x: x.subarray(s * per, e * per), labels: labels.subarray(s, e), mix });
  }
  return parts;
}

const metricsOf = (r: EpochRecord, n: number): CleanMetrics => ({ n, acc: r.test_acc, err: r.test_err, nll: r.test_loss });

export async function train(opts: TrainOptions): Promise<TrainResult> {
  const { config, model, data, events, resume } = opts;
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
  let status: TrainResult['status'] = 'done';

  try {
    for (let epoch = records.length; epoch < t.epochs && status === 'done'; epoch++) {
      const lr = learningRate(epoch, t.lr, t.milestones, t.gamma);
      const midEpoch = resume !== undefined && epoch === resume.state.epoch && resume.state.step > 0;
      // The epoch's batch order comes from the order stream as it stood when the epoch began.
      const orderRng = midEpoch ? Rng.fromState(resume.state.epoch_order) : streams.order;
      const epochOrder = orderRng.state();
      const batches = epochBatches(data.train.n, t.batch_size, orderRng);
      streams.order = orderRng;
      const p = midEpoch ? { ...resume.state.partial } : { loss_sum: 0, correct: 0, seen: 0, seconds: 0 };
      const firstStep = midEpoch ? resume.state.step : 0;
      events?.onEpochStart?.(epoch + 1, steps, lr);

      const snapshot = (step: number, reason: Snapshot['reason'], best = false): Snapshot => ({
        weights: new Map([...model.params.trainable, ...model.params.buffers]),
        optimizer: new Map([...opt.buffers].map(([k, v]) => [`${k}.momentum_buffer`, v])),
        state: {
          epoch: step === 0 ? epoch + (reason === 'epoch' ? 1 : 0) : epoch,
          step,
          rng: Object.fromEntries(STREAMS.map((s) => [s, streams[s].state()])) as Record<StreamName, RngState>,
          epoch_order: epochOrder,
          partial: step === 0 ? { loss_sum: 0, correct: 0, seen: 0, seconds: 0 } : { ...p },
          records: [...records],
        },
        reason,
        best,
      });

      for (let step = firstStep; step < batches.length; step++) {
        const started = performance.now();
        const b = makeBatch(data.train, batches[step], trainT, streams.augment);
        const parts = makeParts(b.x, b.y, opts.microBatch, streams.mixup, config.mixup);
        const r = trainStep(model, opt, parts, t.loss, lr);
        if (!Number.isFinite(r.loss)) {
          throw new RunFailure(`training loss became ${r.loss} at epoch ${epoch + 1}, step ${step + 1}; the last good checkpoint is kept. Lower train.lr or check the data`);
        }
        p.loss_sum += r.loss * b.size;
        p.correct += r.correct;
        p.seen += b.size;
        p.seconds += (performance.now() - started) / 1000;
        events?.onStep?.({ epoch: epoch + 1, step: step + 1, steps, loss: p.loss_sum / p.seen, acc: p.correct / p.seen, lr });
        // Let timers (progress redraws) and signal handlers run between steps.
        await new Promise((resolve) => setImmediate(resolve));
        const done = step + 1;
        if (done < batches.length && opts.shouldStop?.()) {
          status = 'interrupted';
          await opts.checkpoint?.(snapshot(done, 'interrupt'));
          break;
        }
        if (done < batches.length && t.checkpoint_every !== null && (epoch * steps + done) % t.checkpoint_every === 0) {
          await opts.checkpoint?.(snapshot(done, 'steps'));
        }
      }
      if (status !== 'done') break;

      const test = evaluate(model, data.test, testT, config.eval.batch_size);
      const record: EpochRecord = {
        epoch: epoch + 1,
        lr,
        train_loss: p.loss_sum / p.seen,
        train_acc: p.correct / p.seen,
        test_loss: test.nll,
        test_acc: test.acc,
        test_err: test.err,
        seconds: p.seconds,
        images_per_s: p.seen / p.seconds,
      };
      const best = records.every((r) => record.test_acc > r.test_acc);
      records.push(record);
      events?.onEpochEnd?.(record);
      await opts.checkpoint?.(snapshot(0, 'epoch', best));
      // An interruption during the last step of an epoch stops here, with the epoch saved.
      if (epoch + 1 < t.epochs && opts.shouldStop?.()) status = 'interrupted';
    }
  } finally {
    opt.dispose();
  }

  const bestRecord = records.reduce<EpochRecord | null>((b, r) => (b === null || r.test_acc > b.test_acc ? r : b), null);
  const last = records.at(-1);
  const trainSeconds = records.reduce((a, r) => a + r.seconds, 0);
  const images = records.length * data.train.n;
  return {
    status,
    records,
    final: last ? metricsOf(last, data.test.n) : null,
    best: bestRecord && { ...metricsOf(bestRecord, data.test.n), epoch: bestRecord.epoch },
    trainSeconds,
    imagesPerS: trainSeconds > 0 ? images / trainSeconds : 0,
  };
}

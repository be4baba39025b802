/**
 * One experiment end to end: data, model, memory plan, training, and the run directory.
 * The CLI's `train` command is a thin wrapper around `runExperiment`.
 */
import type { LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { DATASETS } from '../data/catalog.js';
import { stepsPerEpoch } from '../data/batches.js';
import { loadDataset } from '../data/load.js';
import { createModel } from '../models/registry.js';
import type { Model } from '../models/model.js';
import { activeBackend, type BackendInfo } from '../runtime/backend.js';
import { MixupRunError, RunFailure } from '../runtime/errors.js';
import { gitCommit, packageVersion, RunDir } from '../runtime/rundir.js';
import { saveCheckpoint } from './checkpoint.js';
import { train, type TrainEvents, type TrainResult } from './loop.js';
import { planMicroBatch } from './memory.js';

export interface Plan {
  dataset: string;
  train_examples: number;
  test_examples: number;
  steps_per_epoch: number;
  total_steps: number;
  mixup: string;
  eligible_layers: number[];
  params: number;
  /** Largest micro-batch; equal to the batch size when batches are not split. */
  micro_batch: number;
  lr_schedule: string;
}

export function buildModel(config: ExperimentConfig): Model {
  const info = DATASETS[config.dataset.name];
  return createModel(config.model.arch, { inputShape: info.shape, classes: info.classes, width: config.model.width, finalBn: config.model.final_bn }, config.seed);
}

/** What a run will do, from the config alone (no data read): for --dry-run and the log. */
export function planExperiment(config: ExperimentConfig, model: Model, backend: string): Plan {
  const info = DATASETS[config.dataset.name];
  const t = config.train;
  const trainN = Math.min(config.dataset.train_limit ?? Infinity, info.sizes.train);
  const steps = stepsPerEpoch(trainN, t.batch_size);
  const lrs = [t.lr, ...t.milestones.map((_, i) => t.lr * t.gamma ** (i + 1))];
  return {
    dataset: config.dataset.name,
    train_examples: trainN,
    test_examples: Math.min(config.dataset.test_limit ?? Infinity, info.sizes.test),
    steps_per_epoch: steps,
    total_steps: steps * t.epochs,
    mixup: config.mixup.mode === 'none' ? 'none' : `${config.mixup.mode}, α = ${config.mixup.alpha}`,
    eligible_layers: config.mixup.layers,
    params: model.params.countTrainable(),
    micro_batch: planMicroBatch(model, t.batch_size, t.micro_batch, backend),
    lr_schedule: `${lrs.map((v) => +v.toPrecision(6)).join(' → ')}${t.milestones.length ? ` at epochs ${t.milestones.join(', ')}` : ''}`,
  };
}

export interface Summary {
  run_id: string;
  dataset: string;
  arch: string;
  width: number;
  mixup: { mode: string; alpha: number | null; layers: number[] };
  loss: string;
  seed: number;
  epochs: number;
  final: { test_acc: number; test_err: number; test_nll: number } | null;
  best: { test_acc: number; test_err: number; test_nll: number; epoch: number } | null;
  params: number;
  train_seconds: number;
  images_per_s: number;
  backend: string;
}

export interface ExperimentOptions {
  out: string;
  argv: string[];
  events?: TrainEvents;
  shouldStop?: () => boolean;
  /** Called once the run directory exists, before training starts. */
  onStart?: (dir: RunDir, plan: Plan) => void;
}

export async function runExperiment(loaded: LoadedConfig, opts: ExperimentOptions): Promise<{ dir: RunDir; result: TrainResult; summary: Summary }> {
  const { config } = loaded;
  const backend = activeBackend() as BackendInfo;
  // Everything that can fail on bad input happens before the run directory is created.
  const data = loadDataset(config.dataset, config.seed);
  const model = buildModel(config);
  try {
    const plan = planExperiment(config, model, backend.name);
    const dir = RunDir.create(opts.out, config, {
      config_hash: loaded.hash,
      config_file: loaded.file,
      seed: config.seed,
      backend,
      package_version: packageVersion(),
      git_commit: gitCommit(),
      node_version: process.version,
      argv: opts.argv,
      start_time: new Date().toISOString(),
      micro_batch: plan.micro_batch,
      data_source: data.source,
    });
    opts.onStart?.(dir, plan);
    const events: TrainEvents = {
      ...opts.events,
      onEpochEnd: async (record, snapshot) => {
        const s = snapshot();
        dir.writeMetrics(s.state.records);
        await saveCheckpoint(dir.checkpointDir, {
          weights: s.weights,
          optimizer: s.optimizer,
          state: s.state,
          meta: { arch: config.model.arch, width: config.model.width, classes: model.classes, input_shape: model.inputShape, config_hash: loaded.hash },
        });
        await opts.events?.onEpochEnd?.(record, snapshot);
      },
    };
    let result: TrainResult;
    try {
      result = await train({ config, model, data, microBatch: plan.micro_batch, events, shouldStop: opts.shouldStop });
    } catch (e) {
      dir.finish('failed', e instanceof Error ? e.message : String(e));
      throw e instanceof MixupRunError ? e : new RunFailure(`training failed: ${(e as Error).message}`, { cause: e });
    }
    const summary: Summary = {
      run_id: dir.id,
      dataset: config.dataset.name,
      arch: config.model.arch,
      width: config.model.width,
      mixup: config.mixup,
      loss: config.train.loss,
      seed: config.seed,
      epochs: result.records.length,
      final: result.final && { test_acc: result.final.acc, test_err: result.final.err, test_nll: result.final.nll },
      best: result.best && { test_acc: result.best.acc, test_err: result.best.err, test_nll: result.best.nll, epoch: result.best.epoch },
      params: plan.params,
      train_seconds: result.trainSeconds,
      images_per_s: result.imagesPerS,
      backend: backend.name,
    };
    if (result.status === 'done') dir.writeSummary(summary);
    dir.finish(result.status);
    return { dir, result, summary };
  } finally {
    model.params.dispose();
  }
}

/**
 * One experiment end to end: data, model, memory plan, training, and the run directory —
 * started fresh from a config, or resumed from a run directory's last checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { cappedTrainSize, DATASETS, SVHN_EXTRA_SIZE } from '../data/catalog.js';
import { stepsPerEpoch } from '../data/batches.js';
import type { DataEvents } from '../data/events.js';
import { loadDataset, type Dataset } from '../data/load.js';
import { ensureDataset } from '../data/prepare.js';
import { createModel } from '../models/registry.js';
import type { Model } from '../models/model.js';
import { activeBackend, type BackendInfo } from '../runtime/backend.js';
import { DataError, MixupRunError, RunFailure, UsageError } from '../runtime/errors.js';
import { gitCommit, packageVersion, RunDir } from '../runtime/rundir.js';
import { cleanCheckpointLeftovers, findCheckpoint, readTensors, saveCheckpoint } from './checkpoint.js';
import { train, type LoopState, type Snapshot, type TrainEvents, type TrainResult } from './loop.js';
import { planMicroBatch } from './memory.js';
import { runConfiguredFgsm } from '../eval/adversarial.js';

export interface Plan {
  dataset: string;
  train_examples: number;
  test_examples: number;
  epochs: number;
  batch_size: number;
  steps_per_epoch: number;
  total_steps: number;
  mixup: string;
  eligible_layers: number[];
  params: number;
  /** Largest micro-batch; equal to the batch size when batches are not split. */
  micro_batch: number;
  lr_schedule: string;
}

function modelOptions(config: ExperimentConfig) {
  const info = DATASETS[config.dataset.name];
  return { inputShape: info.shape, classes: info.classes, width: config.model.width, finalBn: config.model.final_bn };
}

export function buildModel(config: ExperimentConfig): Model {
  return createModel(config.model.arch, modelOptions(config), config.seed);
}

/** What a run will do, from the config alone (no data read): for --dry-run and the log. */
export function planExperiment(config: ExperimentConfig, model: Model, backend: string): Plan {
  const info = DATASETS[config.dataset.name];
  const t = config.train;
  const extra = config.dataset.extra ? SVHN_EXTRA_SIZE : 0;
  const trainN = Math.min(config.dataset.train_limit ?? Infinity, cappedTrainSize(info, config.dataset.per_class_cap, extra));
  const steps = stepsPerEpoch(trainN, t.batch_size);
  const lrs = [t.lr, ...t.milestones.map((_, i) => t.lr * t.gamma ** (i + 1))];
  return {
    dataset: config.dataset.name,
    train_examples: trainN,
    test_examples: Math.min(config.dataset.test_limit ?? Infinity, info.sizes.test),
    epochs: t.epochs,
    batch_size: t.batch_size,
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
  argv: string[];
  /** Download progress, when the dataset must be fetched first. */
  dataEvents?: DataEvents;
  events?: TrainEvents;
  shouldStop?: () => boolean;
  /** Called once the run directory is ready, before training starts. */
  onStart?: (dir: RunDir, plan: Plan, resumedFrom: LoopState | null) => void;
}

export interface ExperimentResult {
  dir: RunDir;
  result: TrainResult;
  summary: Summary;
}

/** Copies checkpoint tensors into the model's variables, refusing any mismatch by name or shape. */
export function loadWeights(model: Model, weights: Map<string, tf.Tensor>, source: string): void {
  const vars = new Map([...model.params.trainable, ...model.params.buffers]);
  const missing = [...vars.keys()].filter((k) => !weights.has(k));
  const extra = [...weights.keys()].filter((k) => !vars.has(k));
  const badShape = [...vars].filter(([k, v]) => weights.has(k) && weights.get(k)!.shape.join() !== v.shape.join()).map(([k]) => k);
  if (missing.length || extra.length || badShape.length) {
    const sample = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? ', …' : '');
    throw new DataError(
      `${source}: checkpoint does not fit ${model.arch} as configured` +
        (missing.length ? `; missing ${missing.length} tensors (${sample(missing)})` : '') +
        (extra.length ? `; ${extra.length} unexpected (${sample(extra)})` : '') +
        (badShape.length ? `; wrong shape for ${sample(badShape)}` : '') +
        '. Was it written by another architecture, width or dataset?',
    );
  }
  for (const [k, v] of vars) v.assign(weights.get(k)!);
}

function checkpointMeta(loaded: LoadedConfig, model: Model): Record<string, unknown> {
  const { config } = loaded;
  return { arch: config.model.arch, width: config.model.width, classes: model.classes, input_shape: model.inputShape, config_hash: loaded.hash };
}

async function trainInto(dir: RunDir, loaded: LoadedConfig, model: Model, data: Dataset, opts: ExperimentOptions, resume: { state: LoopState; optimizer: Map<string, tf.Tensor> } | undefined): Promise<ExperimentResult> {
  const { config } = loaded;
  const backend = activeBackend() as BackendInfo;
  const plan = planExperiment(config, model, backend.name);
  if (resume) dir.reopen(backend, plan.micro_batch);
  opts.onStart?.(dir, plan, resume?.state ?? null);
  const meta = checkpointMeta(loaded, model);
  const checkpoint = async (s: Snapshot) => {
    for (const v of s.weights.values()) {
      if (!tf.tidy(() => tf.all(tf.isFinite(v)).dataSync()[0])) {
        throw new RunFailure(`weights became non-finite at epoch ${s.state.epoch + (s.state.step ? 1 : 0)}, step ${s.state.step}; the last good checkpoint is kept. Lower train.lr`);
      }
    }
    if (s.reason === 'epoch') dir.writeMetrics(s.state.records);
    await saveCheckpoint(dir.checkpointDir, { weights: s.weights, optimizer: s.optimizer, state: s.state, meta });
    if (s.best) await saveCheckpoint(dir.bestCheckpointDir, { weights: s.weights, meta: { ...meta, epoch: s.state.epoch } });
  };
  let result: TrainResult;
  try {
    result = await train({ config, model, data, microBatch: plan.micro_batch, events: opts.events, checkpoint, shouldStop: opts.shouldStop, resume });
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
  if (result.status === 'done' && config.eval.fgsm) {
    try {
      runConfiguredFgsm(dir.path, model, config, data.test, backend.name);
    } catch (e) {
      throw new RunFailure(`training finished, but the eval.fgsm attack failed (${(e as Error).message}); retry with: mixup-run eval-adversarial --run ${dir.path}`, { cause: e });
    }
  }
  return { dir, result, summary };
}

/**
 * Starts a new run in a fresh directory under `out`, or at exactly `at` when given. Bad input
 * fails before the run directory exists.
 */
export async function runExperiment(loaded: LoadedConfig, out: string, opts: ExperimentOptions & { at?: string }): Promise<ExperimentResult> {
  const { config } = loaded;
  const backend = activeBackend() as BackendInfo;
  // Missing data is fetched, or fails, before anything is created.
  await ensureDataset(config.dataset, { events: opts.dataEvents });
  const data = loadDataset(config.dataset, config.seed);
  const model = buildModel(config);
  try {
    const manifest = {
      config_hash: loaded.hash,
      config_file: loaded.file,
      seed: config.seed,
      backend,
      package_version: packageVersion(),
      git_commit: gitCommit(),
      node_version: process.version,
      argv: opts.argv,
      start_time: new Date().toISOString(),
      micro_batch: planMicroBatch(model, config.train.batch_size, config.train.micro_batch, backend.name),
      data_source: config.dataset.dir ?? config.dataset.name,
    };
    const dir = opts.at ? RunDir.createAt(opts.at, config, manifest) : RunDir.create(out, config, manifest);
    return await trainInto(dir, loaded, model, data, opts, undefined);
  } finally {
    model.params.dispose();
  }
}

/**
 * Continues a run from its last checkpoint, with every RNG stream, the optimizer and the
 * schedule where they stopped. Refuses when the run's config.yaml no longer matches the
 * hash it started with, unless `force`.
 */
export async function resumeExperiment(path: string, opts: ExperimentOptions & { force?: boolean }): Promise<ExperimentResult | 'already-done'> {
  const dir = RunDir.open(path);
  const loaded = loadConfig(join(path, 'config.yaml'));
  if (loaded.hash !== dir.info.config_hash && !opts.force) {
    throw new UsageError(`${path}: config.yaml differs from the one the run started with (config hash changed); resuming would mix two experiments. Restore it, or pass --force to continue anyway`);
  }
  if (dir.info.status === 'done') return 'already-done';
  const model = buildModel(loaded.config);
  try {
    const ckpt = findCheckpoint(dir.checkpointDir);
    let resume: { state: LoopState; optimizer: Map<string, tf.Tensor> } | undefined;
    if (ckpt) {
      const { tensors } = readTensors(ckpt, 'model.json');
      const optimizer = readTensors(ckpt, 'optimizer.json').tensors;
      try {
        loadWeights(model, tensors, ckpt);
      } finally {
        tf.dispose([...tensors.values()]);
      }
      resume = { state: JSON.parse(readFileSync(join(ckpt, 'state.json'), 'utf8')) as LoopState, optimizer };
      if (ckpt !== dir.checkpointDir) {
        // Finish the interrupted swap so the run directory is whole again.
        const weights = new Map([...model.params.trainable, ...model.params.buffers]);
        await saveCheckpoint(dir.checkpointDir, { weights, optimizer, state: resume.state, meta: checkpointMeta(loaded, model) });
      }
    }
    cleanCheckpointLeftovers(dir.checkpointDir);
    // No checkpoint yet: the run restarts from its beginning, which the seed makes identical.
    try {
      await ensureDataset(loaded.config.dataset, { events: opts.dataEvents });
      return await trainInto(dir, loaded, model, loadDataset(loaded.config.dataset, loaded.config.seed), opts, resume);
    } finally {
      if (resume) tf.dispose([...resume.optimizer.values()]);
    }
  } finally {
    model.params.dispose();
  }
}

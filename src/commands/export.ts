/**
 * `mixup-run export`: a run's checkpoint as the reference network's PyTorch state_dict
 * (PyTorch layout and module names, BatchNorm running statistics and num_batches_tracked),
 * in NumPy's .npz format, which Python reads with numpy alone.
 */
import { Command, Option } from 'commander';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import { cappedTrainSize, DATASETS, SVHN_EXTRA_SIZE } from '../data/catalog.js';
import { encodeNpz } from '../models/npz.js';
import { describeModel } from '../models/registry.js';
import { toStateDict } from '../models/state_dict.js';
import { selectBackend } from '../runtime/backend.js';
import { DataError, UsageError } from '../runtime/errors.js';
import { writeFileAtomic } from '../runtime/files.js';
import { findCheckpoint, readTensors } from '../train/checkpoint.js';
import { checkpointOption } from './options.js';
import type { Reporter } from './report.js';

export const EXPORT_FORMATS = ['pytorch-npz'] as const;

interface ExportFlags {
  run: string;
  checkpoint: 'last' | 'best';
  format: (typeof EXPORT_FORMATS)[number];
  out?: string;
}

function readJsonIfThere(path: string): Record<string, unknown> {
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Training-mode forwards the checkpoint has seen, which PyTorch's BatchNorm counts in
 * num_batches_tracked: one per micro-batch of every completed step.
 */
export function trainingForwards(config: ExperimentConfig, state: { epoch?: unknown; step?: unknown }, microBatch: number): number {
  const d = config.dataset;
  // Exact but for SVHN with both extra images and a per-class cap (an upper bound there).
  const n = Math.min(d.train_limit ?? Infinity, cappedTrainSize(DATASETS[d.name], d.per_class_cap, d.extra ? SVHN_EXTRA_SIZE : 0));
  const b = config.train.batch_size;
  const parts = (size: number) => Math.ceil(size / microBatch);
  const perEpoch = Math.floor(n / b) * parts(b) + (n % b ? parts(n % b) : 0);
  const epochs = typeof state.epoch === 'number' ? state.epoch : 0;
  const steps = typeof state.step === 'number' ? state.step : 0;
  return epochs * perEpoch + steps * parts(b);
}

export function exportCommand(report: Reporter): Command {
  return new Command('export')
    .description("write a run's weights as the reference PyTorch network's state_dict")
    .requiredOption('-r, --run <dir>', 'run directory written by mixup-run train')
    .addOption(checkpointOption())
    .addOption(new Option('-f, --format <name>', 'file format').choices([...EXPORT_FORMATS]).default('pytorch-npz'))
    .option('-o, --out <file>', 'output file (default: <run>/pytorch_state_dict.npz, or pytorch_state_dict-best.npz)')
    .addHelpText(
      'after',
      `
pytorch-npz: a NumPy .npz archive, one array per state_dict entry, named after the PyTorch
module paths (conv weights [out, in, kh, kw], linear [out, in], BatchNorm running_mean,
running_var and num_batches_tracked). Load it into the reference network with:
  import numpy as np, torch
  state = {k: torch.from_numpy(v) for k, v in np.load('pytorch_state_dict.npz').items()}
  model.load_state_dict(state)
scripts/pytorch-parity.py defines the reference networks (the official code's modules).`,
    )
    .action(async (flags: ExportFlags) => {
      const run = flags.run;
      const folder = flags.checkpoint === 'best' ? 'checkpoint-best' : 'checkpoint';
      if (!existsSync(join(run, 'config.yaml'))) throw new UsageError(`--run ${run}: no config.yaml there; pass a run directory written by mixup-run train`);
      const ckpt = findCheckpoint(join(run, folder));
      if (!ckpt) throw new UsageError(`--run ${run}: no complete ${folder}/ (the run has not finished an epoch)`);
      const { config } = loadConfig(join(run, 'config.yaml'));
      const info = DATASETS[config.dataset.name];
      const opts = { inputShape: info.shape, classes: info.classes, width: config.model.width, finalBn: config.model.final_bn };
      await selectBackend('cpu');
      const { specs, params } = describeModel(config.model.arch, opts);
      const { tensors, meta } = readTensors(ckpt, 'model.json');
      try {
        if (meta.arch !== undefined && meta.arch !== config.model.arch) {
          throw new DataError(`${ckpt}: checkpoint of ${String(meta.arch)}, but config.yaml says ${config.model.arch}`);
        }
        const runJson = readJsonIfThere(join(run, 'run.json'));
        const micro = typeof runJson.micro_batch === 'number' ? runJson.micro_batch : config.train.batch_size;
        // The best checkpoint is taken at an epoch's end and records that epoch in its metadata.
        const state = readJsonIfThere(join(ckpt, 'state.json'));
        const forwards = trainingForwards(config, { epoch: meta.epoch ?? state.epoch, step: state.step }, micro);
        const entries = toStateDict(specs, tensors, forwards, ckpt);
        const out = resolve(flags.out ?? join(run, flags.checkpoint === 'best' ? 'pytorch_state_dict-best.npz' : 'pytorch_state_dict.npz'));
        writeFileAtomic(out, encodeNpz(entries));
        report.out(out);
        report.err(
          `${flags.checkpoint} checkpoint of ${config.model.arch} (width ${config.model.width}, ${opts.classes} classes, input ${opts.inputShape.join('×')}): ` +
            `${entries.length} state_dict entries, ${params.toLocaleString('en-US')} parameters, num_batches_tracked ${forwards}`,
        );
      } finally {
        tf.dispose([...tensors.values()]);
      }
    });
}

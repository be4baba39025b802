/**
 * A finished (or stopped) run brought back for evaluation: its resolved config.yaml and a
 * model carrying the weights of its last or best checkpoint.
 */
import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { Model } from '../models/model.js';
import { UsageError } from '../runtime/errors.js';
import { RunDir } from '../runtime/rundir.js';
import { findCheckpoint, readTensors } from '../train/checkpoint.js';
import { buildModel, loadWeights } from '../train/experiment.js';

/** The last epoch's weights (checkpoint/) or the best test accuracy's (checkpoint-best/). */
export type CheckpointChoice = 'last' | 'best';

export interface OpenedRun {
  dir: RunDir;
  config: ExperimentConfig;
  /** The checkpoint folder to read. */
  checkpointPath: string;
  checkpoint: CheckpointChoice;
}

/**
 * Opens a run directory and locates the chosen checkpoint without creating any tensor, so
 * every usage error surfaces before a backend is set up.
 */
export function openRun(path: string, checkpoint: CheckpointChoice): OpenedRun {
  const dir = RunDir.open(path);
  const { config } = loadConfig(join(path, 'config.yaml'));
  const folder = checkpoint === 'last' ? dir.checkpointDir : dir.bestCheckpointDir;
  const found = findCheckpoint(folder);
  if (!found) {
    throw new UsageError(
      `${path}: no ${checkpoint} checkpoint (${folder} is missing or incomplete; run.json status ${dir.info.status}). ` +
        'A checkpoint is written at the end of each epoch',
    );
  }
  return { dir, config, checkpointPath: found, checkpoint };
}

export interface RestoredModel {
  model: Model;
  /** Epochs completed when the weights were saved, when the checkpoint records it. */
  epoch: number | null;
}

/** Builds the run's model on the active backend and loads the checkpoint; the caller disposes `model.params`. */
export function restoreModel(run: OpenedRun): RestoredModel {
  const model = buildModel(run.config);
  try {
    const { tensors, meta } = readTensors(run.checkpointPath, 'model.json');
    try {
      loadWeights(model, tensors, run.checkpointPath);
    } finally {
      tf.dispose([...tensors.values()]);
    }
    return { model, epoch: checkpointEpoch(run, meta) };
  } catch (e) {
    model.params.dispose();
    throw e;
  }
}

function checkpointEpoch(run: OpenedRun, meta: Record<string, unknown>): number | null {
  if (typeof meta.epoch === 'number') return meta.epoch;
  try {
    const state = JSON.parse(readFileSync(join(run.checkpointPath, 'state.json'), 'utf8')) as { epoch?: unknown };
    return typeof state.epoch === 'number' ? state.epoch : null;
  } catch {
    return null;
  }
}

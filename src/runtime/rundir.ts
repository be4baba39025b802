/**
 * The run directory (DESIGN §3): config.yaml, run.json, metrics.jsonl, metrics.csv,
 * checkpoint/, summary.json. Every file is written atomically; run.json says whether the
 * run is running, done, failed or interrupted.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createObjectCsvStringifier } from 'csv-writer';
import { configToYaml } from '../config/load.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { EpochRecord } from '../train/loop.js';
import type { BackendInfo } from './backend.js';
import { UsageError } from './errors.js';
import { writeFileAtomic, writeJsonAtomic } from './files.js';
import { packageRoot } from './paths.js';

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface RunManifest {
  run_id: string;
  config_hash: string;
  config_file: string;
  seed: number;
  backend: BackendInfo;
  package_version: string;
  git_commit: string | null;
  node_version: string;
  argv: string[];
  start_time: string;
  end_time: string | null;
  status: RunStatus;
  /** Largest micro-batch a batch was split into (the batch size when not split). */
  micro_batch: number;
  data_source: string;
  error?: string;
  /** Times at which the run was resumed. */
  resumed?: string[];
}

const METRIC_COLUMNS: (keyof EpochRecord)[] = [
  'epoch', 'lr', 'train_loss', 'train_acc', 'test_loss', 'test_acc', 'test_err', 'seconds', 'images_per_s',
];

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The commit of the installed code when it is a git checkout, else null. */
export function gitCommit(): string | null {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: packageRoot(), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() || null;
  } catch {
    return null;
  }
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

export class RunDir {
  private constructor(readonly path: string, private manifest: RunManifest) {}

  /** Creates `<out>/<name>-s<seed>-<UTC time>` (suffixed when taken) and writes config.yaml and run.json. */
  static create(out: string, config: ExperimentConfig, manifest: Omit<RunManifest, 'run_id' | 'status' | 'end_time'>): RunDir {
    const base = `${config.name}-s${config.seed}-${stamp(new Date(manifest.start_time))}`;
    let id = base;
    for (let i = 2; existsSync(join(out, id)); i++) id = `${base}-${i}`;
    return RunDir.createAt(join(out, id), config, manifest);
  }

  /** Creates the run directory at exactly `path` (which must not hold a run yet). */
  static createAt(path: string, config: ExperimentConfig, manifest: Omit<RunManifest, 'run_id' | 'status' | 'end_time'>): RunDir {
    if (existsSync(join(path, 'run.json'))) throw new UsageError(`${path}: already holds a run; resume it with --resume`);
    mkdirSync(path, { recursive: true });
    const dir = new RunDir(path, { ...manifest, run_id: basename(path), status: 'running', end_time: null });
    writeFileAtomic(join(path, 'config.yaml'), configToYaml(config));
    dir.writeManifest();
    return dir;
  }

  /** Opens an existing run directory; a UsageError names what is missing when it is not one. */
  static open(path: string): RunDir {
    const manifestPath = join(path, 'run.json');
    if (!existsSync(path)) throw new UsageError(`${path}: no such run directory`);
    if (!existsSync(manifestPath) || !existsSync(join(path, 'config.yaml'))) {
      throw new UsageError(`${path}: not a run directory (a run directory has run.json and config.yaml, written by mixup-run train)`);
    }
    let manifest: RunManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as RunManifest;
    } catch (e) {
      throw new UsageError(`${manifestPath}: unreadable run manifest (${(e as Error).message})`);
    }
    if (typeof manifest.run_id !== 'string' || typeof manifest.config_hash !== 'string') {
      throw new UsageError(`${manifestPath}: not a mixup-run manifest (no run_id / config_hash)`);
    }
    return new RunDir(path, manifest);
  }

  get info(): Readonly<RunManifest> {
    return this.manifest;
  }

  /** Marks a resumed run as running again, recording the time and the backend now in use. */
  reopen(backend: BackendInfo, microBatch: number): void {
    const { error: _dropped, ...rest } = this.manifest;
    this.manifest = { ...rest, status: 'running', end_time: null, backend, micro_batch: microBatch, resumed: [...(rest.resumed ?? []), new Date().toISOString()] };
    this.writeManifest();
  }

  get id(): string {
    return this.manifest.run_id;
  }

  /** The last checkpoint: weights, optimizer and loop state. */
  get checkpointDir(): string {
    return join(this.path, 'checkpoint');
  }

  /** Weights of the epoch with the best test accuracy so far. */
  get bestCheckpointDir(): string {
    return join(this.path, 'checkpoint-best');
  }

  private writeManifest(): void {
    writeJsonAtomic(join(this.path, 'run.json'), this.manifest);
  }

  finish(status: Exclude<RunStatus, 'running'>, error?: string): void {
    this.manifest = { ...this.manifest, status, end_time: new Date().toISOString(), ...(error ? { error } : {}) };
    this.writeManifest();
  }

  /** Rewrites metrics.jsonl and metrics.csv whole, so neither is ever half-written. */
  writeMetrics(records: EpochRecord[]): void {
    writeFileAtomic(join(this.path, 'metrics.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const csv = createObjectCsvStringifier({ header: METRIC_COLUMNS.map((c) => ({ id: c, title: c })) });
    writeFileAtomic(join(this.path, 'metrics.csv'), csv.getHeaderString() + csv.stringifyRecords(records));
  }

  writeSummary(summary: unknown): void {
    writeJsonAtomic(join(this.path, 'summary.json'), summary);
  }
}

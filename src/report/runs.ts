/**
 * Reading run directories (DESIGN §3) for reports: find them under folders, read what each
 * finished run measured, and say why any other was left out. Files are read as data on disk,
 * tolerant of fields added later; nothing here depends on the trainer's code.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as YAML from 'yaml';
import { UsageError } from '../runtime/errors.js';
import { canonicalKey, type MixupMode, type RunKey } from './paper.js';

/** Everything besides the run key that changes what a run measures: runs group only when equal. */
export interface Recipe {
  width: number;
  epochs: number;
  milestones: number[];
  gamma: number;
  loss: string;
  batch_size: number;
  lr: number;
  weight_decay: number;
  /** null = the whole split. */
  train_limit: number | null;
  test_limit: number | null;
}

export interface EpochPoint {
  epoch: number;
  train_loss: number;
  test_err: number;
  test_loss: number;
}

/** One FGSM row of adversarial.json. */
export interface AdversarialResult {
  eps: number;
  space: 'pixel' | 'normalized';
  clip: boolean;
  loss: 'bce' | 'ce';
  attack: 'fgsm';
  /** Fractions in [0, 1], like summary.json's test_acc. */
  accuracy: number;
  clean_accuracy: number;
  /** The weights attacked (the file's `checkpoint`): the last epoch's unless it says 'best'. */
  checkpoint: 'last' | 'best';
}

interface Figures {
  test_acc: number;
  test_err: number;
  test_nll: number;
}

/** A finished run, as far as reports care. */
export interface RunRecord {
  dir: string;
  id: string;
  seed: number;
  key: RunKey;
  recipe: Recipe;
  final: Figures;
  /** The epoch of best test accuracy, with its error and NLL. */
  best: Figures & { epoch: number };
  curve: EpochPoint[];
  adversarial: AdversarialResult[];
  endTime: string | null;
}

export interface Skipped {
  dir: string;
  reason: string;
}

export interface LoadedRuns {
  runs: RunRecord[];
  skipped: Skipped[];
  /** Problems that did not exclude a run (e.g. an unreadable adversarial.json). */
  warnings: string[];
}

const SKIP_DIRS = new Set(['node_modules', 'checkpoint']);

/** Run directories (folders holding run.json) under each root; a root may itself be one. */
export function findRunDirs(roots: string[]): string[] {
  const found = new Set<string>();
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'run.json'))) {
      found.add(dir);
      return;
    }
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !e.name.startsWith('.') && !SKIP_DIRS.has(e.name)) walk(join(dir, e.name));
    }
  };
  for (const root of roots) {
    const abs = resolve(root);
    if (!existsSync(abs) || !statSync(abs).isDirectory()) throw new UsageError(`--runs ${root}: no such directory`);
    walk(abs);
  }
  return [...found].sort();
}

class Unusable extends Error {}

function readJson(path: string, what: string): unknown {
  if (!existsSync(path)) throw new Unusable(`no ${what}`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Unusable(`${what} is not valid JSON (${(e as Error).message})`);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const nums = (v: unknown): number[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : undefined);

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Unusable(`${what} missing or malformed`);
  return value;
}

function figures(v: unknown, what: string): Figures {
  const o = obj(v);
  return {
    test_acc: need(num(o.test_acc), `${what}.test_acc`),
    test_err: need(num(o.test_err), `${what}.test_err`),
    test_nll: need(num(o.test_nll), `${what}.test_nll`),
  };
}

function readCurve(path: string): EpochPoint[] {
  if (!existsSync(path)) return [];
  const points: EpochPoint[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = obj(JSON.parse(line));
    const p = { epoch: num(r.epoch), train_loss: num(r.train_loss), test_err: num(r.test_err), test_loss: num(r.test_loss) };
    if (p.epoch !== undefined && p.train_loss !== undefined && p.test_err !== undefined && p.test_loss !== undefined) points.push(p as EpochPoint);
  }
  return points;
}

/** The FGSM rows of adversarial.json; rows of other attacks (PGD) are not reported here. */
function readAdversarial(path: string): AdversarialResult[] {
  const doc = obj(readJson(path, 'adversarial.json'));
  if (!Array.isArray(doc.results)) throw new Error('adversarial.json has no results list');
  if (doc.checkpoint !== undefined && doc.checkpoint !== 'last' && doc.checkpoint !== 'best') throw new Error('adversarial.json checkpoint is neither last nor best');
  const checkpoint = doc.checkpoint === 'best' ? 'best' : 'last';
  return doc.results.flatMap((r: unknown, i: number) => {
    const o = obj(r);
    const bad = (field: string) => new Error(`adversarial.json results[${i}].${field} missing or malformed`);
    if (typeof o.attack !== 'string') throw bad('attack');
    if (o.attack !== 'fgsm') return [];
    if (num(o.eps) === undefined) throw bad('eps');
    if (o.space !== 'pixel' && o.space !== 'normalized') throw bad('space');
    if (typeof o.clip !== 'boolean') throw bad('clip');
    if (o.loss !== 'bce' && o.loss !== 'ce') throw bad('loss');
    const acc = num(o.accuracy);
    if (acc === undefined || acc < 0 || acc > 1) throw bad('accuracy (a fraction in [0, 1])');
    return [{ eps: o.eps, space: o.space, clip: o.clip, loss: o.loss, attack: 'fgsm', accuracy: acc, clean_accuracy: num(o.clean_accuracy) ?? NaN, checkpoint } as AdversarialResult];
  });
}

/** Reads one run directory; finished runs only. Throws Unusable with the reason otherwise. */
function readRunDir(dir: string, warnings: string[]): RunRecord {
  const manifest = obj(readJson(join(dir, 'run.json'), 'run.json'));
  const status = str(manifest.status) ?? 'unknown';
  if (status !== 'done') throw new Unusable(`status ${status}`);
  const configPath = join(dir, 'config.yaml');
  if (!existsSync(configPath)) throw new Unusable('no config.yaml');
  let config: Obj;
  try {
    config = obj(YAML.parse(readFileSync(configPath, 'utf8')));
  } catch (e) {
    throw new Unusable(`config.yaml does not parse (${(e as Error).message})`);
  }
  const summary = obj(readJson(join(dir, 'summary.json'), 'summary.json'));
  const dataset = obj(config.dataset);
  const model = obj(config.model);
  const mixup = obj(config.mixup);
  const train = obj(config.train);
  const sMixup = obj(summary.mixup);
  const mode = need(str(mixup.mode) ?? str(sMixup.mode), 'mixup.mode');
  if (mode !== 'none' && mode !== 'input' && mode !== 'manifold') throw new Unusable(`unknown mixup mode ${mode}`);
  const key = canonicalKey({
    dataset: need(str(dataset.name) ?? str(summary.dataset), 'dataset.name'),
    arch: need(str(model.arch) ?? str(summary.arch), 'model.arch'),
    mode: mode as MixupMode,
    alpha: mode === 'none' ? null : need(num(mixup.alpha) ?? num(sMixup.alpha), 'mixup.alpha'),
    layers: mode === 'none' ? [] : mode === 'input' ? [0] : need(nums(mixup.layers) ?? nums(sMixup.layers), 'mixup.layers'),
  });
  const recipe: Recipe = {
    width: need(num(model.width) ?? num(summary.width), 'model.width'),
    epochs: need(num(train.epochs) ?? num(summary.epochs), 'train.epochs'),
    milestones: nums(train.milestones) ?? [],
    gamma: num(train.gamma) ?? 0.1,
    loss: need(str(train.loss) ?? str(summary.loss), 'train.loss'),
    batch_size: need(num(train.batch_size), 'train.batch_size'),
    lr: need(num(train.lr), 'train.lr'),
    weight_decay: need(num(train.weight_decay), 'train.weight_decay'),
    train_limit: num(dataset.train_limit) ?? null,
    test_limit: num(dataset.test_limit) ?? null,
  };
  if (!isObj(summary.final) || !isObj(summary.best)) throw new Unusable('summary.json has no final or best figures');
  let curve: EpochPoint[] = [];
  try {
    curve = readCurve(join(dir, 'metrics.jsonl'));
  } catch (e) {
    warnings.push(`${dir}: metrics.jsonl unreadable, no learning curve (${(e as Error).message})`);
  }
  let adversarial: AdversarialResult[] = [];
  if (existsSync(join(dir, 'adversarial.json'))) {
    try {
      adversarial = readAdversarial(join(dir, 'adversarial.json'));
    } catch (e) {
      warnings.push(`${dir}: ${(e as Error).message}; its FGSM figures are left out`);
    }
  }
  return {
    dir,
    id: str(manifest.run_id) ?? str(summary.run_id) ?? dir,
    seed: need(num(config.seed) ?? num(manifest.seed) ?? num(summary.seed), 'seed'),
    key,
    recipe,
    final: figures(summary.final, 'summary.final'),
    best: { ...figures(summary.best, 'summary.best'), epoch: num(obj(summary.best).epoch) ?? NaN },
    curve,
    adversarial,
    endTime: str(manifest.end_time) ?? null,
  };
}

/** Reads every run directory under the roots: finished runs, and the others with their reasons. */
export function loadRuns(roots: string[]): LoadedRuns {
  const runs: RunRecord[] = [];
  const skipped: Skipped[] = [];
  const warnings: string[] = [];
  for (const dir of findRunDirs(roots)) {
    try {
      runs.push(readRunDir(dir, warnings));
    } catch (e) {
      if (!(e instanceof Unusable)) throw e;
      skipped.push({ dir, reason: e.message });
    }
  }
  return { runs, skipped, warnings };
}

/**
 * Adversarial evaluation of a run directory: ε lists as users write them, the attack
 * settings, and RUN_DIR/adversarial.json + adversarial.csv (DESIGN §3), where rows of
 * earlier invocations are kept unless the same setting is measured again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createObjectCsvStringifier } from 'csv-writer';
import type { ExperimentConfig } from '../config/schema.js';
import type { Split } from '../data/load.js';
import type { Model } from '../models/model.js';
import { UsageError } from '../runtime/errors.js';
import { writeFileAtomic, writeJsonAtomic } from '../runtime/files.js';
import { planMicroBatch } from '../train/memory.js';
import { attackAccuracy, type AttackLoss, type AttackResult, type AttackSetting, type AttackSpace } from './attacks.js';
import type { CheckpointChoice } from './restore.js';

/** SPEC §5's default convention (later forks): [0,1] pixels, ε ∈ {4/255, 8/255}, clipped, cross-entropy. */
export const DEFAULT_EPS = '4/255,8/255';
export const DEFAULT_SPACE: AttackSpace = 'pixel';
export const DEFAULT_LOSS: AttackLoss = 'ce';

export interface Eps {
  value: number;
  text: string;
}

const NUMBER = /^(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

/** One ε: a non-negative number (`0.03`) or a fraction of two (`8/255`). */
export function parseEps(token: string): Eps {
  const text = token.trim();
  const parts = text.split('/');
  const bad = (why: string) => new UsageError(`ε '${token}': ${why}; write a number or a fraction, e.g. 0.03 or 8/255`);
  if (parts.length > 2 || parts.some((p) => !NUMBER.test(p.trim()))) throw bad('not a non-negative number');
  const [num, den] = parts.map((p) => Number(p.trim()));
  if (den !== undefined && !(den > 0)) throw bad('the denominator must be > 0');
  const value = den === undefined ? num : num / den;
  if (!Number.isFinite(value)) throw bad('not finite');
  return { value, text: parts.map((p) => p.trim()).join('/') };
}

/** A comma-separated ε list (`0.01,0.03,8/255`); repeated values are measured once. */
export function parseEpsList(text: string): Eps[] {
  const tokens = text.split(',');
  if (tokens.some((t) => t.trim() === '')) throw new UsageError(`ε list '${text}': empty item; write e.g. 0.01,0.03,8/255`);
  const out: Eps[] = [];
  for (const e of tokens.map(parseEps)) if (!out.some((o) => o.value === e.value)) out.push(e);
  return out;
}

/** One row of adversarial.json: every convention beside the number. */
export interface AdversarialRow {
  attack: 'fgsm' | 'pgd';
  eps: number;
  eps_text: string;
  space: AttackSpace;
  clip: boolean;
  loss: AttackLoss;
  steps: number;
  step_size: number | null;
  /** Fractions in [0, 1]. */
  accuracy: number;
  clean_accuracy: number;
}

export interface AdversarialFile {
  /** Which weights were attacked: the last epoch's or the best epoch's. */
  checkpoint: CheckpointChoice;
  /** Test examples attacked. */
  n: number;
  results: AdversarialRow[];
}

export function rowOf(r: AttackResult): AdversarialRow {
  const s = r.setting;
  return {
    attack: s.attack, eps: s.eps, eps_text: s.epsText, space: s.space, clip: s.clip, loss: s.loss,
    steps: s.steps, step_size: s.stepSize, accuracy: r.accuracy, clean_accuracy: r.clean_accuracy,
  };
}

const rowKey = (r: AdversarialRow) => JSON.stringify([r.attack, r.eps, r.space, r.clip, r.loss, r.steps]);

const ORDER: ((r: AdversarialRow) => string | number)[] = [
  (r) => r.attack, (r) => r.space, (r) => Number(!r.clip), (r) => r.loss, (r) => r.steps, (r) => r.step_size ?? 0, (r) => r.eps,
];
function compareRows(a: AdversarialRow, b: AdversarialRow): number {
  for (const f of ORDER) {
    const [x, y] = [f(a), f(b)];
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export interface Merged {
  file: AdversarialFile;
  /** Why earlier rows were dropped, when they were. */
  note?: string;
}

/**
 * Adds new rows to an earlier file, replacing rows with the same (attack, ε, space, clip,
 * loss, steps). Rows measured on other weights or another number of examples cannot share
 * the file's header: they are dropped, and `note` says so (writeAdversarial refuses that
 * unless asked to replace).
 */
export function mergeAdversarial(old: AdversarialFile | null, next: AdversarialFile): Merged {
  if (!old) return { file: { ...next, results: [...next.results].sort(compareRows) } };
  if (old.checkpoint !== next.checkpoint || old.n !== next.n) {
    return {
      file: { ...next, results: [...next.results].sort(compareRows) },
      note: `replaced ${old.results.length} earlier rows measured on checkpoint ${old.checkpoint} with n = ${old.n} (now checkpoint ${next.checkpoint}, n = ${next.n})`,
    };
  }
  const byKey = new Map(old.results.map((r) => [rowKey(r), r]));
  for (const r of next.results) byKey.set(rowKey(r), r);
  return { file: { ...next, results: [...byKey.values()].sort(compareRows) } };
}

/** The run's adversarial.json, or null when there is none or it is not in this shape. */
export function readAdversarialFile(dir: string): AdversarialFile | null {
  const path = join(dir, 'adversarial.json');
  if (!existsSync(path)) return null;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as AdversarialFile;
    const ok = (doc.checkpoint === 'last' || doc.checkpoint === 'best') && typeof doc.n === 'number' && Array.isArray(doc.results);
    return ok ? doc : null;
  } catch {
    return null;
  }
}

const CSV_COLUMNS = ['checkpoint', 'n', 'attack', 'eps', 'eps_text', 'space', 'clip', 'loss', 'steps', 'step_size', 'accuracy', 'clean_accuracy'] as const;

/** Why rows for (checkpoint, n) cannot join the run's adversarial.json, or null when they can. */
export function adversarialConflict(dir: string, checkpoint: CheckpointChoice, n: number): string | null {
  const old = readAdversarialFile(dir);
  if (!old || (old.checkpoint === checkpoint && old.n === n)) return null;
  return (
    `${join(dir, 'adversarial.json')} holds ${old.results.length} rows measured on the ${old.checkpoint} checkpoint with n = ${old.n}; ` +
    `rows for the ${checkpoint} checkpoint with n = ${n} cannot share it. Use the same --checkpoint and --limit, or pass --replace to discard the earlier rows`
  );
}

/**
 * Merges `next` into the run's adversarial.json and rewrites it and adversarial.csv
 * atomically. Earlier rows measured on other weights or another n are discarded only
 * when `replace`; otherwise a UsageError names them and nothing is written.
 */
export function writeAdversarial(dir: string, next: AdversarialFile, replace = false): Merged {
  const conflict = adversarialConflict(dir, next.checkpoint, next.n);
  if (conflict && !replace) throw new UsageError(conflict);
  const previous = readAdversarialFile(dir);
  const merged = mergeAdversarial(previous, next);
  if (!previous && existsSync(join(dir, 'adversarial.json'))) merged.note = 'replaced an adversarial.json that was unreadable or not in the expected shape';
  const { file } = merged;
  writeJsonAtomic(join(dir, 'adversarial.json'), file);
  const csv = createObjectCsvStringifier({ header: CSV_COLUMNS.map((c) => ({ id: c, title: c })) });
  const records = file.results.map((r) => ({ checkpoint: file.checkpoint, n: file.n, ...r, step_size: r.step_size ?? '' }));
  writeFileAtomic(join(dir, 'adversarial.csv'), csv.getHeaderString() + csv.stringifyRecords(records));
  return merged;
}

/** FGSM settings from a config's `eval.fgsm` block, or [] when it has none. */
export function configuredFgsm(config: ExperimentConfig): AttackSetting[] {
  const f = config.eval.fgsm;
  if (!f) return [];
  return f.eps.map((e) => {
    const eps = parseEps(String(e));
    return { attack: 'fgsm', eps: eps.value, epsText: eps.text, space: f.space, clip: f.clip, loss: f.loss, steps: 1, stepSize: null };
  });
}

/** Attacks `split` under each setting and merges the rows into the run directory's files. */
export function evaluateAdversarial(dir: string, model: Model, config: ExperimentConfig, split: Split, settings: AttackSetting[], opts: { checkpoint: CheckpointChoice; batchSize: number; replace?: boolean; onProgress?: (done: number, total: number) => void }): { results: AttackResult[]; merged: Merged } {
  const results = attackAccuracy(model, split, settings, { norm: { mean: config.dataset.mean, std: config.dataset.std }, batchSize: opts.batchSize, onProgress: opts.onProgress });
  const merged = writeAdversarial(dir, { checkpoint: opts.checkpoint, n: split.n, results: results.map(rowOf) }, opts.replace);
  return { results, merged };
}

/**
 * After training: the config's `eval.fgsm` attacks on the final weights (the last
 * checkpoint's), merged into the run directory like eval-adversarial's.
 */
export function runConfiguredFgsm(dir: string, model: Model, config: ExperimentConfig, test: Split, backend: string): AttackResult[] {
  const settings = configuredFgsm(config);
  if (settings.length === 0) return [];
  const batchSize = planMicroBatch(model, config.eval.batch_size, 'auto', backend);
  return evaluateAdversarial(dir, model, config, test, settings, { checkpoint: 'last', batchSize, replace: true }).results;
}

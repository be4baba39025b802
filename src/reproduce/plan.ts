/**
 * Expanding a paper table into its runs: one config per row (dataset, arch, mixup mode, α,
 * eligible layers) at a scale, times seeds, each with a fixed run directory so that a rerun
 * finds what is done, resumes what is not, and starts what is missing.
 */
import { join } from 'node:path';
import * as YAML from 'yaml';
import { parseConfig, type LoadedConfig, type Override } from '../config/load.js';
import { UsageError } from '../runtime/errors.js';
import { PAPER_TABLES, TABLE_IDS, tableRunKeys, type RunKey, type TableId } from '../report/paper.js';

export const SCALES = ['paper', 'short', 'smoke'] as const;
export type Scale = (typeof SCALES)[number];

/** The stand-in dataset of smoke scale: shipped with the package, so CI needs no download. */
export const SMOKE_DATASET = 'fashion-mnist-subset';

export interface PlannedRun {
  /** e.g. `cifar10-preactresnet18-manifold-a2-L012` */
  row: string;
  key: RunKey;
  seed: number;
  /** The run directory (fixed, so reruns find it). */
  dir: string;
  loaded: LoadedConfig;
}

export function rowId(k: RunKey): string {
  const parts = [k.dataset, k.arch, k.mode];
  if (k.alpha !== null) parts.push(`a${k.alpha}`);
  if (k.mode === 'manifold') parts.push(`L${k.layers.join('')}`);
  return parts.join('-');
}

/**
 * The raw config of a row at a scale. `paper` is the published recipe of the table; `short`
 * divides epochs and milestones by 10 (a single-GPU-day schedule); `smoke` trains a width-2
 * network for one epoch on 200 images of the shipped Fashion-MNIST subset, standing in for
 * the table's dataset: it checks the machinery, not the numbers.
 */
export function rowConfig(table: TableId, k: RunKey, scale: Scale, seed: number): Record<string, unknown> {
  const schedule = PAPER_TABLES[table].schedule[k.arch as keyof (typeof PAPER_TABLES)[TableId]['schedule']];
  if (!schedule) throw new UsageError(`${table}: no published schedule for ${k.arch}`);
  const milestones = schedule.milestones ?? [];
  const mixup = k.mode === 'none' ? { mode: 'none' } : k.mode === 'input' ? { mode: 'input', alpha: k.alpha } : { mode: 'manifold', alpha: k.alpha, layers: k.layers };
  const base = { name: `${table}-${rowId(k)}`, seed, mixup };
  if (scale === 'smoke') {
    return {
      ...base,
      dataset: { name: SMOKE_DATASET, train_limit: 200, test_limit: 100 },
      model: { arch: k.arch, width: 2 },
      train: { epochs: 1, batch_size: 50 },
      eval: { batch_size: 100 },
    };
  }
  const div = scale === 'short' ? 10 : 1;
  return {
    ...base,
    dataset: { name: k.dataset },
    model: { arch: k.arch },
    train: { epochs: Math.max(1, Math.round(schedule.epochs / div)), milestones: milestones.map((m) => Math.round(m / div)), batch_size: 100 },
  };
}

export function parseTable(name: string): TableId {
  if (!(TABLE_IDS as readonly string[]).includes(name)) {
    throw new UsageError(`unknown table '${name}'; known: ${TABLE_IDS.join(', ')}`);
  }
  if (tableRunKeys(name as TableId).length === 0) throw new UsageError(`table '${name}' has no rows this runner can train`);
  return name as TableId;
}

export function parseSeeds(text: string): number[] {
  const seeds = text.split(',').map((s) => s.trim());
  if (seeds.length === 0 || seeds.some((s) => !/^\d+$/.test(s))) throw new UsageError(`--seeds ${text}: expected a comma-separated list of whole numbers, e.g. 0,1,2,3,4`);
  const nums = seeds.map(Number);
  if (new Set(nums).size !== nums.length) throw new UsageError(`--seeds ${text}: a seed is listed twice`);
  return nums;
}

/** `i/n`, 0 ≤ i < n: this process runs every n-th run of the table, starting at the i-th. */
export function parseShard(text: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) throw new UsageError(`--shard ${text}: expected i/n with 0 ≤ i < n, e.g. --shard 0/4 (a Slurm array task id over the array size)`);
  return { index, count };
}

/** The folder of one table at one scale: runs and the table files live under it. */
export const tableDir = (out: string, table: TableId, scale: Scale) => join(out, table, scale);

/** Every run of the table, in a fixed order (rows in table order, then seeds). */
export function planTable(table: TableId, scale: Scale, seeds: number[], out: string, overrides: Override[]): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const key of tableRunKeys(table)) {
    for (const seed of seeds) {
      const raw = rowConfig(table, key, scale, seed);
      const row = rowId(key);
      const loaded = parseConfig(YAML.stringify(raw), `${table}/${row}.yaml`, overrides);
      runs.push({ row, key, seed, dir: join(tableDir(out, table, scale), row, `seed${seed}`), loaded });
    }
  }
  return runs;
}

/** The runs of one shard: stable over the whole table, so concurrent shards never overlap. */
export function shardOf<T>(runs: T[], shard: { index: number; count: number } | null): T[] {
  return shard ? runs.filter((_, i) => i % shard.count === shard.index) : runs;
}

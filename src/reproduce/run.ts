/**
 * Running a planned table: skip finished runs, resume unfinished ones, start missing ones,
 * one after another in this process; then build the table from every finished run.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildReport, writeReport, type Report } from '../report/report.js';
import { loadRuns } from '../report/runs.js';
import type { RunKey, TableId } from '../report/paper.js';
import { resumeExperiment, runExperiment, type ExperimentOptions } from '../train/experiment.js';
import { SMOKE_DATASET, tableDir, type PlannedRun, type Scale } from './plan.js';

export type RunState = 'done' | 'unfinished' | 'missing';

/** A run directory's state; a folder without run.json (a crash while creating it) counts as missing. */
export function runState(dir: string): RunState {
  const manifest = join(dir, 'run.json');
  if (!existsSync(manifest)) return 'missing';
  try {
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { status?: string }).status === 'done' ? 'done' : 'unfinished';
  } catch {
    return 'unfinished';
  }
}

export interface TableProgress {
  /** Before each run: its position, what will happen to it. */
  onRun?(i: number, total: number, run: PlannedRun, state: RunState): void;
  /** The options each training gets (events, stop signal). */
  experiment: Omit<ExperimentOptions, 'onStart'> & { onStart?: ExperimentOptions['onStart'] };
}

/** Trains every run not done yet; returns 'interrupted' when stopped between or inside runs. */
export async function runTable(runs: PlannedRun[], progress: TableProgress): Promise<'done' | 'interrupted'> {
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    const state = runState(run.dir);
    progress.onRun?.(i + 1, runs.length, run, state);
    if (state === 'done') continue;
    if (progress.experiment.shouldStop?.()) return 'interrupted';
    if (state === 'missing') {
      rmSync(run.dir, { recursive: true, force: true });
      const r = await runExperiment(run.loaded, run.dir, { ...progress.experiment, at: run.dir });
      if (r.result.status !== 'done') return 'interrupted';
    } else {
      const r = await resumeExperiment(run.dir, progress.experiment);
      if (r !== 'already-done' && r.result.status !== 'done') return 'interrupted';
    }
  }
  return 'done';
}

/** The table from every finished run of the table at this scale, written beside the runs. */
export function writeTable(table: TableId, scale: Scale, out: string): { report: Report; files: string[] } {
  const root = tableDir(out, table, scale);
  const loaded = loadRuns([root]);
  // At smoke scale the shipped subset stands in for the table's dataset.
  const keyMap = scale === 'smoke' ? (k: RunKey) => ({ ...k, dataset: SMOKE_DATASET }) : undefined;
  const report = buildReport(loaded, { tables: [table], keyMap });
  return { report, files: writeReport(report, root) };
}

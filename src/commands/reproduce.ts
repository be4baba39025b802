/** `mixup-run reproduce`: a paper table's runs (rows × seeds), then the table. */
import { Command, Option } from 'commander';
import { parseOverride } from '../config/load.js';
import { BACKENDS } from '../config/schema.js';
import { TABLE_IDS } from '../report/paper.js';
import { parseSeeds, parseShard, parseTable, planTable, SCALES, shardOf, tableDir, type Scale } from '../reproduce/plan.js';
import { runState, runTable, writeTable } from '../reproduce/run.js';
import { selectBackend, type BackendChoice } from '../runtime/backend.js';
import { EXIT } from '../runtime/errors.js';
import { dataProgress } from './datasets.js';
import { progressEvents } from './progress.js';
import type { Reporter } from './report.js';

interface ReproduceFlags {
  seeds: string;
  scale: Scale;
  out: string;
  set: string[];
  shard?: string;
  backend: BackendChoice;
  dryRun?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function reproduceCommand(report: Reporter): Command {
  return new Command('reproduce')
    .description("train every run of a paper table (rows × seeds), skipping finished runs and resuming unfinished ones, then write the table")
    .argument('<table>', `one of ${TABLE_IDS.join(', ')}`)
    .option('--seeds <list>', 'comma-separated seeds', '0,1,2,3,4')
    .addOption(new Option('--scale <scale>', 'paper: the published recipe; short: epochs ÷ 10; smoke: width 2, 1 epoch, 200 images of the shipped Fashion-MNIST subset in place of the dataset (checks the machinery, not the numbers)').choices([...SCALES]).default('paper'))
    .option('-o, --out <dir>', 'root folder: runs go to <out>/<table>/<scale>/<row>/seed<N>/', 'results/reproduce')
    .option('--set <key.path=value>', 'override a config value in every run (repeatable)', collect, [])
    .option('--shard <i/n>', 'run only runs i, i+n, i+2n, … of the table (0 ≤ i < n), e.g. a Slurm array task')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend').choices([...BACKENDS]).default('auto'))
    .option('--dry-run', 'list the runs and their state (done, unfinished, missing) without training')
    .addHelpText(
      'after',
      `
Examples:
  mixup-run reproduce table1a --scale smoke --seeds 0,1      # minutes on a CPU
  mixup-run reproduce table1a --seeds 0,1,2,3,4              # the paper's recipe (GPU days)
  mixup-run reproduce table1a --dry-run                      # what is done, what is left

Rerunning the same command continues where it stopped. The table (Markdown, CSV, SVG
learning curves) is written to <out>/<table>/<scale>/ from every finished run.`,
    )
    .action(async (tableName: string, flags: ReproduceFlags) => {
      const table = parseTable(tableName);
      const seeds = parseSeeds(flags.seeds);
      const shard = flags.shard ? parseShard(flags.shard) : null;
      const all = planTable(table, flags.scale, seeds, flags.out, flags.set.map(parseOverride));
      const runs = shardOf(all, shard);
      if (flags.dryRun) {
        report.out(`${table} at ${flags.scale} scale: ${all.length} runs${shard ? `, shard ${flags.shard}: ${runs.length}` : ''}`);
        for (const r of runs) report.out(`  ${runState(r.dir).padEnd(10)} ${r.row} seed ${r.seed}  ${r.dir}`);
        return;
      }
      await selectBackend(flags.backend);
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) report.abort(`${sig} again: exiting now`);
        stopping = true;
        report.err(`${sig}: stopping after the current step and saving a checkpoint (press Ctrl-C again to exit at once)`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const ui: { progress: ReturnType<typeof progressEvents> | null } = { progress: null };
        const outcome = await runTable(runs, {
          onRun: (i, total, run, state) =>
            report.err(`[${i}/${total}] ${run.row} seed ${run.seed}: ${state === 'done' ? 'done, skipped' : state === 'unfinished' ? 'resuming' : 'starting'}`),
          experiment: {
            argv: process.argv.slice(2),
            dataEvents: dataProgress(report),
            shouldStop: () => stopping,
            onStart: (_dir, plan) => {
              ui.progress = progressEvents(plan.epochs, report);
            },
            events: {
              onEpochStart: (e, steps, lr) => ui.progress?.onEpochStart?.(e, steps, lr),
              onStep: (p) => ui.progress?.onStep?.(p),
              onEpochEnd: (r) => ui.progress?.onEpochEnd?.(r),
            },
          },
        });
        ui.progress?.stop();
        const { report: table_, files } = writeTable(table, flags.scale, flags.out);
        report.out(table_.markdown);
        report.err(`table written to ${tableDir(flags.out, table, flags.scale)} (${files.length} files)`);
        const pending = all.filter((r) => runState(r.dir) !== 'done').length;
        if (pending > 0) report.err(`${pending} of ${all.length} runs not finished yet${shard ? ' (other shards may be running them)' : ''}; rerun the same command to continue`);
        if (outcome === 'interrupted') report.setExit(EXIT.interrupted);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

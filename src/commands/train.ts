/** `mixup-run train`: flags → config → experiment → report. */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import * as YAML from 'yaml';
import { configToYaml, loadConfig, parseOverride, type Override } from '../config/load.js';
import { BACKENDS } from '../config/schema.js';
import { selectBackend, type BackendChoice } from '../runtime/backend.js';
import { UsageError } from '../runtime/errors.js';
import { buildModel, planExperiment, resumeExperiment, runExperiment, type Plan } from '../train/experiment.js';
import type { EpochRecord, LoopState, StepProgress } from '../train/loop.js';
import { EXIT } from '../runtime/errors.js';
import { RunDir } from '../runtime/rundir.js';
import { dataProgress } from './datasets.js';
import { progressEvents } from './progress.js';
import type { Reporter } from './report.js';

interface TrainFlags {
  config?: string;
  resume?: string;
  force?: boolean;
  set: string[];
  seed?: string;
  out: string;
  backend?: BackendChoice;
  dataDir?: string;
  dryRun?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

function overridesFrom(flags: TrainFlags): Override[] {
  const out = flags.set.map(parseOverride);
  if (flags.seed !== undefined) {
    if (!/^\d+$/.test(flags.seed)) throw new UsageError(`--seed ${flags.seed}: expected a whole number ≥ 0`);
    out.push({ path: ['seed'], value: Number(flags.seed), text: `seed=${flags.seed} (--seed)` });
  }
  if (flags.backend !== undefined) out.push({ path: ['backend'], value: flags.backend, text: `backend=${flags.backend} (--backend)` });
  if (flags.dataDir !== undefined) out.push({ path: ['dataset', 'dir'], value: flags.dataDir, text: `dataset.dir=${flags.dataDir} (--data-dir)` });
  return out;
}

export function trainCommand(report: Reporter): Command {
  return new Command('train')
    .description('train one experiment from a YAML config (or resume one) and write a run directory')
    .option('-c, --config <file>', 'experiment config (YAML); see configs/')
    .option('--set <key.path=value>', 'override a config value, parsed as YAML (repeatable), e.g. --set train.epochs=3', collect, [])
    .option('--seed <n>', "random seed (overrides the config's seed)")
    .option('-o, --out <dir>', 'folder that receives the run directory', 'results/runs')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (overrides the config)').choices([...BACKENDS]))
    .option('--data-dir <dir>', 'folder holding the dataset files (overrides dataset.dir)')
    .option('--dry-run', 'print the resolved config and the planned run, then exit without training')
    .option('--resume <run_dir>', "continue a run from its last checkpoint (its own config.yaml; weights, optimizer, schedule and RNG streams restored)")
    .option('--force', 'with --resume: continue even though config.yaml changed since the run started')
    .addHelpText(
      'after',
      `
Examples:
  mixup-run train --config configs/quickstart.yaml
  mixup-run train --config configs/fashion-mnist/manifold.yaml --seed 3 --set train.epochs=5
  mixup-run train --config configs/quickstart.yaml --set mixup.layers=[1,2] --dry-run
  mixup-run train --resume results/runs/quickstart-s0-20260101-120000

The run directory <out>/<name>-s<seed>-<time>/ holds config.yaml (resolved), run.json
(manifest: backend, versions, status), metrics.jsonl + metrics.csv (one row per epoch),
checkpoint/ (last: weights, optimizer and RNG state), checkpoint-best/ (weights of the best
epoch) and summary.json (final and best figures).
Ctrl-C (or SIGTERM) stops after the current step, writes a checkpoint and exits with 130;
a second Ctrl-C exits at once. Resume with --resume.`,
    )
    .action(async (flags: TrainFlags) => {
      if (flags.resume !== undefined) {
        if (flags.config !== undefined || flags.set.length > 0 || flags.seed !== undefined || flags.dryRun) {
          throw new UsageError('--resume continues a run with its own config.yaml: drop --config, --set, --seed and --dry-run');
        }
      } else if (flags.config === undefined) {
        throw new UsageError("train needs --config FILE (or --resume RUN_DIR); e.g. mixup-run train --config configs/quickstart.yaml");
      } else if (flags.force) {
        throw new UsageError('--force only applies to --resume');
      }
      const loaded = flags.config !== undefined ? loadConfig(flags.config, overridesFrom(flags)) : null;
      if (loaded && flags.dryRun) {
        // Planning builds the model to count its parameters; the cpu backend suffices.
        await selectBackend('cpu');
        const model = buildModel(loaded.config);
        try {
          report.out(`# resolved config (${flags.config})\n${configToYaml(loaded.config)}`);
          const backend = loaded.config.backend === 'auto' ? 'wasm' : loaded.config.backend;
          report.out(`# plan\n${YAML.stringify(planExperiment(loaded.config, model, backend))}`);
        } finally {
          model.params.dispose();
        }
        return;
      }
      // A resumed run's own config (RunDir.open first: it says what is wrong with a bad run dir).
      const config = loaded?.config ?? loadConfig(join(RunDir.open(flags.resume!).path, 'config.yaml')).config;
      const backend = await selectBackend(flags.backend ?? config.backend);
      // Created once the run is known (its epoch count); a holder, since closures assign it.
      const ui: { progress: ReturnType<typeof progressEvents> | null } = { progress: null };
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) report.abort(`${sig} again: exiting now`);
        stopping = true;
        ui.progress?.stop();
        report.err(`${sig}: stopping after the current step and saving a checkpoint (press Ctrl-C again to exit at once)`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const opts = {
          argv: process.argv.slice(2),
          dataEvents: dataProgress(report),
          shouldStop: () => stopping,
          onStart: (d: RunDir, plan: Plan, from: LoopState | null) => {
            ui.progress = progressEvents(plan.epochs, report);
            report.err(`${from ? 'resuming' : 'run'} ${d.path}${from ? ` at epoch ${from.epoch + 1}, step ${from.step}` : ''}`);
            report.err(
              `backend ${backend.name} (${backend.package} ${backend.version}); ${plan.params.toLocaleString('en-US')} parameters; ` +
                `${plan.train_examples} train / ${plan.test_examples} test; ${plan.steps_per_epoch} steps/epoch; mixup ${plan.mixup}` +
                (plan.eligible_layers.length ? ` at layers {${plan.eligible_layers.join(',')}}` : '') +
                (plan.micro_batch < plan.batch_size ? `; micro-batches of ${plan.micro_batch}` : ''),
            );
          },
          events: {
            onEpochStart: (e: number, steps: number, lr: number) => ui.progress?.onEpochStart?.(e, steps, lr),
            onStep: (p: StepProgress) => ui.progress?.onStep?.(p),
            onEpochEnd: (r: EpochRecord) => ui.progress?.onEpochEnd?.(r),
          },
        };
        const outcome = flags.resume !== undefined
          ? await resumeExperiment(flags.resume, { ...opts, force: flags.force })
          : await runExperiment(loaded!, flags.out, opts);
        ui.progress?.stop();
        if (outcome === 'already-done') {
          report.out(`${flags.resume}: already complete (run.json status done); nothing to do`);
          return;
        }
        const { dir, result, summary } = outcome;
        if (result.status === 'interrupted') {
          report.err(`interrupted; checkpoint saved in ${dir.checkpointDir} (run.json: interrupted). Continue with: mixup-run train --resume ${dir.path}`);
          report.setExit(EXIT.interrupted);
          return;
        }
        const f = summary.final;
        const b = summary.best;
        report.out(
          `${dir.path}\n` +
            (f ? `final: test acc ${(100 * f.test_acc).toFixed(2)}%  err ${(100 * f.test_err).toFixed(2)}%  nll ${f.test_nll.toFixed(4)}\n` : '') +
            (b ? `best:  test acc ${(100 * b.test_acc).toFixed(2)}%  err ${(100 * b.test_err).toFixed(2)}%  nll ${b.test_nll.toFixed(4)} (epoch ${b.epoch})\n` : '') +
            `${summary.train_seconds.toFixed(1)} s training, ${summary.images_per_s.toFixed(1)} img/s on ${summary.backend}`,
        );
      } finally {
        ui.progress?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

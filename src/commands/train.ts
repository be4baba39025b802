/** `mixup-run train`: flags → config → experiment → report. */
import { Command, Option } from 'commander';
import * as YAML from 'yaml';
import { configToYaml, loadConfig, parseOverride, type Override } from '../config/load.js';
import { BACKENDS } from '../config/schema.js';
import { selectBackend, type BackendChoice } from '../runtime/backend.js';
import { UsageError } from '../runtime/errors.js';
import { buildModel, planExperiment, runExperiment } from '../train/experiment.js';
import { progressEvents } from './progress.js';
import type { Reporter } from './report.js';

interface TrainFlags {
  config: string;
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
    .description('train one experiment from a YAML config and write a run directory')
    .requiredOption('-c, --config <file>', 'experiment config (YAML); see configs/')
    .option('--set <key.path=value>', 'override a config value, parsed as YAML (repeatable), e.g. --set train.epochs=3', collect, [])
    .option('--seed <n>', 'random seed (overrides the config\'s seed)')
    .option('-o, --out <dir>', 'folder that receives the run directory', 'results/runs')
    .addOption(new Option('--backend <name>', 'TensorFlow.js backend (overrides the config)').choices([...BACKENDS]))
    .option('--data-dir <dir>', 'folder holding the dataset files (overrides dataset.dir)')
    .option('--dry-run', 'print the resolved config and the planned run, then exit without training')
    .addHelpText(
      'after',
      `
Examples:
  mixup-run train --config configs/quickstart.yaml
  mixup-run train --config configs/fashion-mnist/manifold.yaml --seed 3 --set train.epochs=5
  mixup-run train --config configs/quickstart.yaml --set mixup.layers=[1,2] --dry-run

The run directory <out>/<name>-s<seed>-<time>/ holds config.yaml (resolved), run.json
(manifest: backend, versions, status), metrics.jsonl + metrics.csv (one row per epoch),
checkpoint/ (weights, optimizer and RNG state) and summary.json (final and best figures).`,
    )
    .action(async (flags: TrainFlags) => {
      const loaded = loadConfig(flags.config, overridesFrom(flags));
      const { config } = loaded;
      if (flags.dryRun) {
        // Planning builds the model to count its parameters; the cpu backend suffices.
        await selectBackend('cpu');
        const model = buildModel(config);
        try {
          report.out(`# resolved config (${flags.config})\n${configToYaml(config)}`);
          report.out(`# plan\n${YAML.stringify(planExperiment(config, model, config.backend === 'auto' ? 'wasm' : config.backend))}`);
        } finally {
          model.params.dispose();
        }
        return;
      }
      const backend = await selectBackend(config.backend);
      const progress = progressEvents(config.train.epochs);
      let stopping = false;
      const onSignal = (sig: NodeJS.Signals) => {
        if (stopping) report.abort(`${sig} again: exiting now`);
        stopping = true;
        progress.stop();
        report.err(`${sig}: stopping after the current step (press Ctrl-C again to exit at once)`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { dir, result, summary } = await runExperiment(loaded, {
          out: flags.out,
          argv: process.argv.slice(2),
          events: progress,
          shouldStop: () => stopping,
          onStart: (d, plan) => {
            report.err(`run ${d.path}`);
            report.err(
              `backend ${backend.name} (${backend.package} ${backend.version}); ${plan.params.toLocaleString('en-US')} parameters; ` +
                `${plan.train_examples} train / ${plan.test_examples} test; ${plan.steps_per_epoch} steps/epoch; mixup ${plan.mixup}` +
                (plan.eligible_layers.length ? ` at layers {${plan.eligible_layers.join(',')}}` : '') +
                (plan.micro_batch < config.train.batch_size ? `; micro-batches of ${plan.micro_batch}` : ''),
            );
          },
        });
        progress.stop();
        if (result.status === 'interrupted') {
          report.err(`interrupted; ${dir.path} keeps the checkpoint of the last completed epoch (run.json: interrupted)`);
          report.setExit(130);
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
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });
}

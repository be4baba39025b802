/** `mixup-run eval`: a run's checkpoint → clean test accuracy, error and NLL → stdout and eval.json. */
import { Command, Option } from 'commander';
import { join } from 'node:path';
import { BACKENDS } from '../config/schema.js';
import { loadDataset } from '../data/load.js';
import { evaluate } from '../eval/metrics.js';
import { openRun, restoreModel, type CheckpointChoice } from '../eval/restore.js';
import { selectBackend, type BackendChoice } from '../runtime/backend.js';
import { writeJsonAtomic } from '../runtime/files.js';
import { transformFor } from '../train/loop.js';
import { checkpointOption, positiveInt } from './options.js';
import type { Reporter } from './report.js';

interface Flags {
  run: string;
  checkpoint: CheckpointChoice;
  batchSize?: string;
  backend?: BackendChoice;
}

export function evalCommand(report: Reporter): Command {
  return new Command('eval')
    .description("evaluate a run's checkpoint on the clean test set: accuracy, error, NLL")
    .requiredOption('-r, --run <run_dir>', 'run directory written by mixup-run train')
    .addOption(checkpointOption())
    .option('--batch-size <n>', "examples per forward pass (default: the run's eval.batch_size)")
    .addOption(new Option('--backend <name>', "TensorFlow.js backend (default: the run's config)").choices([...BACKENDS]))
    .addHelpText(
      'after',
      `
Writes RUN_DIR/eval.json: { checkpoint, epoch, n, test_acc, test_err, test_nll } (fractions;
NLL in nats per example), the model in eval mode (BatchNorm running statistics).`,
    )
    .action(async (flags: Flags) => {
      const batchSize = flags.batchSize === undefined ? undefined : positiveInt('--batch-size', flags.batchSize);
      const run = openRun(flags.run, flags.checkpoint);
      const { config } = run;
      if (run.dir.info.status !== 'done') report.err(`note: run.json says ${run.dir.info.status}; evaluating its ${flags.checkpoint} checkpoint as it is now`);
      await selectBackend(flags.backend ?? config.backend);
      const data = loadDataset(config.dataset, config.seed);
      const { model, epoch } = restoreModel(run);
      try {
        const m = evaluate(model, data.test, transformFor(config, data, false), batchSize ?? config.eval.batch_size);
        const result = { checkpoint: flags.checkpoint, epoch, n: m.n, test_acc: m.acc, test_err: m.err, test_nll: m.nll };
        writeJsonAtomic(join(run.dir.path, 'eval.json'), result);
        report.out(
          `${run.dir.path}: ${flags.checkpoint} checkpoint${epoch !== null ? ` (epoch ${epoch})` : ''}, n = ${m.n}\n` +
            `test acc ${(100 * m.acc).toFixed(2)}%  err ${(100 * m.err).toFixed(2)}%  nll ${m.nll.toFixed(4)}`,
        );
      } finally {
        model.params.dispose();
      }
    });
}

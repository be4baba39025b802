/** `mixup-run eval-adversarial`: flags → attack settings → a run's checkpoint attacked → table and files. */
import { Command, Option } from 'commander';
import { BACKENDS } from '../config/schema.js';
import { loadDataset } from '../data/load.js';
import { adversarialConflict, DEFAULT_EPS, DEFAULT_LOSS, DEFAULT_SPACE, evaluateAdversarial, parseEps, parseEpsList } from '../eval/adversarial.js';
import { firstExamples, unboundedPgd, type AttackLoss, type AttackName, type AttackResult, type AttackSetting, type AttackSpace } from '../eval/attacks.js';
import { openRun, restoreModel, type CheckpointChoice } from '../eval/restore.js';
import { selectBackend, type BackendChoice } from '../runtime/backend.js';
import { UsageError } from '../runtime/errors.js';
import { planMicroBatch } from '../train/memory.js';
import { checkpointOption, positiveInt } from './options.js';
import type { Reporter } from './report.js';

interface Flags {
  run: string;
  eps?: string;
  space: AttackSpace;
  clip: boolean;
  loss: AttackLoss;
  attack: AttackName;
  steps?: string;
  stepSize?: string;
  unbounded?: boolean;
  batchSize?: string;
  limit?: string;
  checkpoint: CheckpointChoice;
  replace?: boolean;
  backend?: BackendChoice;
}

/** SPEC §5's gradient-masking check: 200 steps of 0.01. */
const PGD_STEPS = 200;
const PGD_STEP_SIZE = '0.01';

/** The settings the flags ask for; every usage error is found here, before anything runs. */
export function settingsFromFlags(f: Flags): AttackSetting[] {
  const common = { space: f.space, clip: f.clip, loss: f.loss };
  if (f.attack === 'fgsm') {
    const stray = [f.steps !== undefined && '--steps', f.stepSize !== undefined && '--step-size', f.unbounded && '--unbounded'].filter(Boolean);
    if (stray.length) throw new UsageError(`${stray.join(', ')} ${stray.length > 1 ? 'apply' : 'applies'} only to --attack pgd`);
    return parseEpsList(f.eps ?? DEFAULT_EPS).map((e) => ({ attack: 'fgsm', eps: e.value, epsText: e.text, ...common, steps: 1, stepSize: null }));
  }
  const steps = f.steps === undefined ? PGD_STEPS : positiveInt('--steps', f.steps);
  const stepSize = parseEps(f.stepSize ?? PGD_STEP_SIZE).value;
  if (!(stepSize > 0)) throw new UsageError(`--step-size ${f.stepSize}: must be > 0`);
  if (f.unbounded) {
    if (f.eps !== undefined) throw new UsageError('--unbounded attacks without an ε-ball: drop --eps');
    return [unboundedPgd(steps, stepSize, common)];
  }
  return parseEpsList(f.eps ?? DEFAULT_EPS).map((e) => ({ attack: 'pgd', eps: e.value, epsText: e.text, ...common, steps, stepSize }));
}

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;

function epsLabel(s: AttackSetting): string {
  const value = +s.eps.toPrecision(4);
  return s.epsText === String(value) || s.epsText === String(s.eps) ? s.epsText : `${s.epsText} (${value})`;
}

/** The results as an aligned text table. */
export function resultTable(results: AttackResult[]): string {
  const head = ['attack', 'space', 'clip', 'loss', 'eps', 'steps', 'step', 'clean acc', 'adv acc'];
  const rows = results.map(({ setting: s, accuracy, clean_accuracy }) => [
    s.attack, s.space, s.clip ? 'yes' : 'no', s.loss, epsLabel(s), String(s.steps), s.stepSize === null ? '-' : String(s.stepSize), pct(clean_accuracy), pct(accuracy),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

export function evalAdversarialCommand(report: Reporter): Command {
  return new Command('eval-adversarial')
    .description("attack a run's checkpoint (FGSM, or PGD) and report test accuracy under attack beside the clean accuracy")
    .requiredOption('-r, --run <run_dir>', 'run directory written by mixup-run train')
    .option('--eps <list>', `comma-separated ε values, numbers or fractions, e.g. 0.01,0.03,8/255 (default: ${DEFAULT_EPS})`)
    .addOption(new Option('--space <space>', 'what is perturbed: the [0,1] image (pixel) or the normalized input (normalized)').choices(['pixel', 'normalized']).default(DEFAULT_SPACE))
    .option('--no-clip', 'do not clip the adversarial image to a valid image ([0,1] pixels, or their normalized image in normalized space)')
    .addOption(new Option('--loss <loss>', 'loss whose gradient is followed: cross-entropy, or BCE on softmax (the official code)').choices(['ce', 'bce']).default(DEFAULT_LOSS))
    .addOption(new Option('--attack <name>', 'fgsm: one step of ε; pgd: iterated steps projected onto the ε-ball').choices(['fgsm', 'pgd']).default('fgsm'))
    .option('--steps <n>', `PGD steps (default ${PGD_STEPS}, SPEC §5)`)
    .option('--step-size <s>', `PGD step size, in the attacked space (default ${PGD_STEP_SIZE})`)
    .option('--unbounded', 'PGD without projection onto an ε-ball (recorded as ε = steps × step size, eps_text "unbounded")')
    .option('--batch-size <n>', "examples per batch (default: the run's eval.batch_size, reduced to fit the backend's memory)")
    .option('--limit <n>', 'attack only the first N test examples')
    .addOption(checkpointOption())
    .option('--replace', 'discard rows of adversarial.json measured on another checkpoint or number of examples')
    .addOption(new Option('--backend <name>', "TensorFlow.js backend (default: the run's config)").choices([...BACKENDS]))
    .addHelpText(
      'after',
      `
Defaults (SPEC §5, the convention of later forks): pixel space, ε ∈ {4/255, 8/255}, clip to
[0,1], cross-entropy loss, FGSM, last checkpoint. PGD starts from the clean image (no random
start). The 2018 official code attacked the
normalized input with ε ∈ {0.01, 0.03}, no clipping and BCE on softmax:
  --space normalized --eps 0.01,0.03 --no-clip --loss bce

Examples:
  mixup-run eval-adversarial --run results/runs/fashion-mnist-preactresnet18-manifold-s0-20260101-120000
  mixup-run eval-adversarial --run RUN_DIR --eps 0.01,0.03,0.1 --space pixel
  mixup-run eval-adversarial --run RUN_DIR --attack pgd --unbounded --steps 200 --step-size 0.01

Results merge into RUN_DIR/adversarial.json and adversarial.csv: one row per (attack, ε, space,
clip, loss, steps), each with its accuracy and the clean accuracy in the same space; the file
records the checkpoint and the number of examples attacked. Rows from an earlier invocation
with other settings are kept; the same setting measured again replaces its row. Rows of
another checkpoint or --limit cannot share the file: that is refused unless --replace.`,
    )
    .action(async (flags: Flags) => {
      const settings = settingsFromFlags(flags);
      const limit = flags.limit === undefined ? null : positiveInt('--limit', flags.limit);
      const requestedBatch = flags.batchSize === undefined ? undefined : positiveInt('--batch-size', flags.batchSize);
      const run = openRun(flags.run, flags.checkpoint);
      const { config } = run;
      if (run.dir.info.status !== 'done') report.err(`note: run.json says ${run.dir.info.status}; attacking its ${flags.checkpoint} checkpoint as it is now`);
      const backend = await selectBackend(flags.backend ?? config.backend);
      const data = loadDataset(config.dataset, config.seed);
      const { model, epoch } = restoreModel(run);
      try {
        const [h, w, c] = model.inputShape;
        const test = firstExamples(data.test, limit, h * w * c);
        // One file holds one (checkpoint, n): refuse before spending the time on the attack.
        const conflict = adversarialConflict(run.dir.path, flags.checkpoint, test.n);
        if (conflict && !flags.replace) throw new UsageError(conflict);
        const batchSize = planMicroBatch(model, requestedBatch ?? config.eval.batch_size, 'auto', backend.name);
        report.err(`attacking ${run.dir.path} (${flags.checkpoint} checkpoint${epoch !== null ? `, epoch ${epoch}` : ''}) on ${test.n} test examples, batches of ${batchSize}, backend ${backend.name}`);
        let tenths = 0;
        const { results, merged } = evaluateAdversarial(run.dir.path, model, config, test, settings, {
          checkpoint: flags.checkpoint,
          batchSize,
          replace: flags.replace,
          onProgress: (done, total) => {
            const now = Math.floor((10 * done) / total);
            if (done < total && now > tenths) report.err(`  ${done}/${total} examples`);
            tenths = now;
          },
        });
        if (merged.note) report.err(`note: ${merged.note}`);
        report.out(`${run.dir.path}: ${flags.checkpoint} checkpoint${epoch !== null ? ` (epoch ${epoch})` : ''}, n = ${test.n}\n${resultTable(results)}`);
        report.err(`wrote adversarial.json and adversarial.csv (${merged.file.results.length} rows) in ${run.dir.path}`);
      } finally {
        model.params.dispose();
      }
    });
}

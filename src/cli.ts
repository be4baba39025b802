/**
 * mixup-run: the command line. Builds the commander program and maps every error to an
 * exit code in one place (DESIGN §3): 0 ok, 1 runtime failure, 2 usage or config error,
 * 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { trainCommand } from './commands/train.js';
import { reproduceCommand } from './commands/reproduce.js';
import { modelsCommand } from './commands/models.js';
import { exportCommand } from './commands/export.js';
import { datasetsCommand } from './commands/datasets.js';
import { tableCommand } from './commands/table.js';
import { evalCommand } from './commands/eval.js';
import { evalAdversarialCommand } from './commands/eval-adversarial.js';
import { consoleReporter, type Reporter } from './commands/report.js';
import { EXIT, MixupRunError } from './runtime/errors.js';
import { packageVersion } from './runtime/rundir.js';

export function buildProgram(report: Reporter): Command {
  const program = new Command('mixup-run')
    .description('Reproduce the Manifold Mixup benchmarks (Verma et al., ICML 2019) with TensorFlow.js')
    .version(packageVersion())
    .option('--verbose', 'show stack traces of errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => report.out(s.trimEnd()), writeErr: (s) => report.err(s.trimEnd()) });
  for (const cmd of [trainCommand(report), reproduceCommand(report), evalCommand(report), evalAdversarialCommand(report), tableCommand(report), datasetsCommand(report), modelsCommand(report), exportCommand(report)]) {
    program.addCommand(cmd.exitOverride().configureOutput({ writeOut: (s) => report.out(s.trimEnd()), writeErr: (s) => report.err(s.trimEnd()) }));
  }
  return program;
}

export async function main(argv: string[], report: Reporter = consoleReporter()): Promise<number> {
  const program = buildProgram(report);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors; commander has already printed its message.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof MixupRunError) {
      report.err(`mixup-run: ${e.message}`);
      if (verbose && e.stack) report.err(e.stack);
      return e.exitCode;
    }
    report.err(`mixup-run: internal error: ${(e as Error)?.message ?? String(e)}`);
    if (verbose || !(e instanceof Error)) report.err(String((e as Error)?.stack ?? e));
    else report.err('(run with --verbose for the stack trace)');
    return EXIT.failure;
  }
}


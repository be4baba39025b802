/**
 * Typed errors. Library code throws these; only the CLI maps them to exit codes
 * (src/cli.ts), so a failure is reported the same way wherever it happens.
 */

/** Exit codes of the command line (DESIGN §3). */
export const EXIT = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;

export class MixupRunError extends Error {
  constructor(message: string, readonly exitCode: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A command-line flag or argument the user got wrong. */
export class UsageError extends MixupRunError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

/** One problem found in a config file, located as precisely as possible. */
export interface ConfigIssue {
  /** Key path, e.g. `mixup.alpha` or `mixup.layers[1]`. */
  path: string;
  /** 1-based line and column in the YAML file, when the key exists there. */
  line?: number;
  col?: number;
  message: string;
}

/** A config that does not parse or validate. Carries every issue at once. */
export class ConfigError extends MixupRunError {
  constructor(readonly file: string, readonly issues: ConfigIssue[]) {
    super(ConfigError.format(file, issues), EXIT.usage);
  }

  static format(file: string, issues: ConfigIssue[]): string {
    const lines = issues.map((i) => {
      const where = i.line !== undefined ? `${file}:${i.line}:${i.col ?? 1}` : file;
      return `${where}: ${i.path || '(document)'}: ${i.message}`;
    });
    const head = issues.length === 1 ? 'invalid config' : `invalid config (${issues.length} problems)`;
    return `${head}\n  ${lines.join('\n  ')}`;
  }
}

/** Input data that is missing, unreadable or not in the expected format. */
export class DataError extends MixupRunError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.usage, options);
  }
}

/** Training or evaluation failed at run time (non-finite loss, out of memory, …). */
export class RunFailure extends MixupRunError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, EXIT.failure, options);
  }
}

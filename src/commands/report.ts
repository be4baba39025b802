/** The CLI's only channel to the terminal: results to stdout, messages to stderr. */
export interface Reporter {
  out(text: string): void;
  err(text: string): void;
  setExit(code: number): void;
  /** Exit immediately (a second Ctrl-C). */
  abort(message: string): never;
  /** Where progress bars may draw: a TTY stream, or null for plain lines through err(). */
  progressStream: NodeJS.WriteStream | null;
}

export function consoleReporter(): Reporter {
  const line = (s: string) => (s.endsWith('\n') ? s : `${s}\n`);
  return {
    out: (t) => void process.stdout.write(line(t)),
    err: (t) => void process.stderr.write(line(t)),
    setExit: (code) => void (process.exitCode = code),
    abort: (message) => {
      process.stderr.write(line(message));
      process.exit(130);
    },
    progressStream: process.stderr.isTTY ? process.stderr : null,
  };
}

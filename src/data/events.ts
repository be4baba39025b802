/**
 * How the data layer tells its caller what it is doing, without printing: progress of
 * long steps (download, checksum, extraction, decoding) and one-line notes. The CLI
 * renders them (src/commands/datasets.ts: a bar on a TTY, plain lines otherwise).
 */

export interface DataProgress {
  phase: 'download' | 'checksum' | 'extract' | 'decode';
  /** What is being worked on: a file name or a split. */
  label: string;
  done: number;
  /** Null when unknown (a server that sends no length). */
  total: number | null;
  unit: 'bytes' | 'files' | 'images';
}

export interface DataEvents {
  progress?(p: DataProgress): void;
  note?(message: string): void;
}

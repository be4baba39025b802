/**
 * `mixup-run datasets list|download|verify|path`: where each dataset is, fetching and
 * checking the official files. Also the renderer of the data layer's progress events
 * (a cli-progress bar on a TTY, plain lines otherwise), reusable by other commands.
 */
import cliProgress from 'cli-progress';
import { Command } from 'commander';
import { DATASET_NAMES, DATASETS, type DatasetName } from '../data/catalog.js';
import type { DataEvents, DataProgress } from '../data/events.js';
import { notFoundMessage, readSplit, requestedSplits } from '../data/load.js';
import { ensureDataset, verifyDataset, type PrepareOptions } from '../data/prepare.js';
import { cacheDirOf, defaultCacheRoot, locateDataset } from '../data/registry.js';
import { DataError, UsageError } from '../runtime/errors.js';
import type { Reporter } from './report.js';

const MB = 1024 * 1024;

function amount(v: number, unit: DataProgress['unit']): string {
  return unit === 'bytes' ? `${(v / MB).toFixed(1)} MB` : `${v.toLocaleString('en-US')} ${unit}`;
}

/**
 * Renders data-layer events through the reporter: one cli-progress bar per step on its
 * progress stream (a TTY), else a plain line per 10 % on stderr.
 */
export function dataProgress(report: Reporter): DataEvents & { stop(): void } {
  const stream = report.progressStream;
  let bar: cliProgress.SingleBar | null = null;
  let current = '';
  let nextPlain = 0;
  const stop = () => {
    bar?.stop();
    bar = null;
    current = '';
  };
  return {
    progress(p) {
      const key = `${p.phase} ${p.label}`;
      const finished = p.total !== null && p.done >= p.total;
      if (stream) {
        if (key !== current || !bar) {
          stop();
          current = key;
          bar = new cliProgress.SingleBar(
            { stream, format: `${p.phase} ${p.label} |{bar}| {percentage}% {amount} ETA {eta_formatted}`, hideCursor: true, etaBuffer: 50 },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total ?? 0, p.done, { amount: '' });
        }
        if (p.total !== null) bar.setTotal(p.total);
        bar.update(p.done, { amount: `${amount(p.done, p.unit)}${p.total !== null ? ` / ${amount(p.total, p.unit)}` : ''}` });
        if (finished) stop();
        return;
      }
      if (key !== current) {
        current = key;
        nextPlain = 0;
      }
      const fraction = p.total ? p.done / p.total : 0;
      if (p.total === null ? p.done >= nextPlain : fraction >= nextPlain || finished) {
        report.err(`${key}: ${amount(p.done, p.unit)}${p.total !== null ? ` of ${amount(p.total, p.unit)} (${Math.floor(100 * fraction)}%)` : ''}`);
        nextPlain = p.total === null ? p.done + 64 * MB : Math.floor(fraction * 10 + 1) / 10;
        if (finished) nextPlain = Infinity;
      }
    },
    note(message) {
      stop();
      report.err(message);
    },
    stop,
  };
}

function datasetName(value: string): DatasetName {
  if (!(DATASET_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`unknown dataset "${value}"; known: ${DATASET_NAMES.join(', ')}`);
  }
  return value as DatasetName;
}

interface Flags {
  dataDir?: string;
  extra?: boolean;
}

/** Test seams: where the cache is, which sources and system folders to use. */
export type DatasetsDeps = Omit<PrepareOptions, 'events'>;

export function datasetsCommand(report: Reporter, prep: DatasetsDeps = {}): Command {
  const cacheRoot = () => prep.cacheRoot ?? defaultCacheRoot();
  const request = (name: string, flags: Flags) => {
    const n = datasetName(name);
    if (flags.extra && n !== 'svhn') throw new UsageError('--extra: only svhn has an extra split');
    return { name: n, dir: flags.dataDir ?? null, extra: flags.extra ?? false };
  };
  const withProgress = async <T>(fn: (events: DataEvents) => Promise<T>): Promise<T> => {
    const events = dataProgress(report);
    try {
      return await fn(events);
    } finally {
      events.stop();
    }
  };

  const cmd = new Command('datasets').description('list, download, verify and locate the datasets').addHelpText(
    'after',
    `
Lookup order: --data-dir (only there), then the cache folder (MIXUP_RUN_CACHE, else
$XDG_CACHE_HOME/mixup-run, else ~/.cache/mixup-run), then known system folders (Debian's
/usr/share/datasets/fashion-mnist). Downloads go to the cache folder; MIXUP_RUN_MIRROR=URL
fetches the same file names from URL/<dataset>/ instead, still checked against the
published checksums. Training downloads a missing dataset by itself.`,
  );

  // Subcommands are created here, so they get the program's error and output routing here too.
  const sub = (name: string) =>
    cmd.command(name).exitOverride().configureOutput({ writeOut: (t) => report.out(t.trimEnd()), writeErr: (t) => report.err(t.trimEnd()) });

  sub('list')
    .description('every dataset with its shape, classes, sizes and where it was found')
    .action(() => {
      const rows = DATASET_NAMES.map((name) => {
        const info = DATASETS[name];
        let where: string;
        try {
          const loc = locateDataset(name, null, [], prep);
          where = loc ? `${loc.where}: ${loc.dir}` : 'not downloaded';
        } catch (e) {
          where = `unreadable: ${(e as Error).message}`;
        }
        return [name, info.shape.join('×'), String(info.classes), `${info.sizes.train}/${info.sizes.test}`, where];
      });
      const head = ['name', 'shape', 'classes', 'train/test', 'location'];
      const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
      const line = (r: string[]) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]) : c)).join('  ');
      report.out([line(head), ...rows.map(line)].join('\n'));
      report.out(`cache folder: ${cacheRoot()}`);
    });

  sub('download')
    .argument('<name>', `dataset: ${DATASET_NAMES.join(', ')}`)
    .description('fetch the official files into the cache folder (unless found), check them, extract and decode them')
    .option('--data-dir <dir>', 'use the files in this folder instead (nothing is downloaded)')
    .option('--extra', 'svhn: also fetch the extra split (1.3 GB)')
    .action(async (name: string, flags: Flags) => {
      const req = request(name, flags);
      const counts = await withProgress(async (events) => {
        const located = await ensureDataset(req, { ...prep, events });
        const out: string[] = [];
        for (const split of ['train', 'test', ...requestedSplits(req)] as const) {
          out.push(`${readSplit(req.name, located, split, { ...prep, events }).n.toLocaleString('en-US')} ${split}`);
        }
        return { located, out };
      });
      report.out(`${req.name}: ready in ${counts.located.dir} (${counts.out.join(' / ')} images)`);
    });

  sub('verify')
    .argument('<name>', 'dataset')
    .description('check the files against the published checksums and decode every split')
    .option('--data-dir <dir>', 'check the files in this folder')
    .option('--extra', 'svhn: also check the extra split')
    .action(async (name: string, flags: Flags) => {
      const req = request(name, flags);
      const r = await withProgress((events) => verifyDataset(req, { ...prep, events }));
      report.out(`${req.name}: ${r.located.where} ${r.located.dir}`);
      for (const f of r.files) report.out(`  ${f.status.padEnd(10)} ${f.file}: ${f.detail}`);
      const counts = Object.entries(r.counts).map(([s, n]) => `${n.toLocaleString('en-US')} ${s}`);
      if (counts.length) report.out(`  decoded    ${counts.join(' / ')} images`);
      if (r.problems.length) {
        throw new DataError(`${req.name}: ${r.problems[0]}${r.problems.length > 1 ? ` (and ${r.problems.length - 1} more problems)` : ''}`);
      }
      report.out(`${req.name}: ok`);
    });

  sub('path')
    .argument('<name>', 'dataset')
    .description('print the folder the dataset is read from')
    .option('--data-dir <dir>', 'check this folder instead')
    .action((name: string, flags: Flags) => {
      const req = request(name, flags);
      const loc = locateDataset(req.name, req.dir, [], prep);
      if (!loc) throw new DataError(`${notFoundMessage(req.name, prep)} (downloads go to ${cacheDirOf(req.name, cacheRoot())})`);
      report.out(loc.dir);
    });
  return cmd;
}

/** `mixup-run table`: run directories → paper tables (Markdown + CSV) and learning curves. */
import { Command } from 'commander';
import { UsageError } from '../runtime/errors.js';
import { isTableId, TABLE_IDS, type TableId } from '../report/paper.js';
import { buildReport, writeReport } from '../report/report.js';
import { loadRuns } from '../report/runs.js';
import type { Reporter } from './report.js';

interface TableFlags {
  runs: string[];
  out: string;
  table?: string[];
}

function parseTables(names: string[] | undefined): TableId[] | undefined {
  if (!names) return undefined;
  const list = names.flatMap((n) => n.split(',')).map((n) => n.trim()).filter(Boolean);
  if (list.includes('all')) return [...TABLE_IDS];
  for (const n of list) if (!isTableId(n)) throw new UsageError(`--table ${n}: unknown table; known: ${TABLE_IDS.join(', ')}, all`);
  return [...new Set(list)] as TableId[];
}

/** "3 skipped: 2 status running, 1 no summary.json". */
function skipSummary(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const r of reasons) {
    const kind = r.startsWith('seed ') ? 'repeated seed' : r.replace(/ \(.*$/, '');
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  return [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}

export function tableCommand(report: Reporter): Command {
  return new Command('table')
    .description('aggregate finished runs into the paper\'s tables: mean ± std over seeds beside the published figures')
    .requiredOption('-r, --runs <dir...>', 'folders searched (recursively) for run directories; a run directory itself also counts')
    .option('-o, --out <dir>', 'folder that receives the tables and plots', 'results/tables')
    .option('-t, --table <name...>', `paper tables to write even without runs (comma-separated or repeated): ${TABLE_IDS.join(', ')}, all; default: every table some run matches`)
    .addHelpText(
      'after',
      `
Examples:
  mixup-run table --runs results/runs
  mixup-run table --runs results/runs/cifar10 --table table1a,fgsm --out results/tables/cifar10

Runs group by dataset, arch, mixup mode, α, eligible layers and recipe (width, epochs,
milestones, loss, batch size, lr, weight decay, data limits); only runs whose run.json says
done count. Writes <table>.md / <table>.csv per paper table, groups.md / groups.csv for every
group, and curves-*.svg learning curves; see results/README.md for the columns.`,
    )
    .action((flags: TableFlags) => {
      const tables = parseTables(flags.table);
      const loaded = loadRuns(flags.runs);
      const found = loaded.runs.length + loaded.skipped.length;
      if (found === 0) throw new UsageError(`no run directories under ${flags.runs.join(', ')} (a run directory holds run.json)`);
      const built = buildReport(loaded, { tables });
      const written = writeReport(built, flags.out);
      report.out(built.markdown);
      const used = built.groups.reduce((a, g) => a + g.runs.length, 0);
      report.err(`${found} run directories: ${used} used in ${built.groups.length} groups` + (built.skipped.length ? `; ${built.skipped.length} skipped (${skipSummary(built.skipped.map((s) => s.reason))})` : ''));
      for (const s of built.skipped) report.err(`  skipped ${s.dir}: ${s.reason}`);
      for (const w of built.warnings) report.err(`  warning: ${w}`);
      report.err(`tables: ${built.tables.length ? built.tables.join(', ') : 'no paper table matches these runs (see groups.md)'}`);
      report.err(`wrote ${written.length} files to ${flags.out}`);
    });
}

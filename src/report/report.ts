/**
 * From run directories to report files: group the finished runs, render the requested paper
 * tables and the table of every group (Markdown + CSV), and draw the learning curves.
 * `buildReport` is pure (no disk access); `writeReport` writes the files atomically.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../runtime/files.js';
import { groupId, groupRuns, type Group } from './aggregate.js';
import { keyId, PAPER_TABLES, TABLE_IDS, type RunKey, type TableId } from './paper.js';
import { learningCurves } from './plots.js';
import type { LoadedRuns, Skipped } from './runs.js';
import { renderGroups, renderPaperTable } from './tables.js';

export interface ReportOptions {
  /** Paper tables to write even without runs; default: every table that some group matches. */
  tables?: TableId[];
  /** Maps a paper row key to the key of the runs standing for it (e.g. a smoke-scale dataset). */
  keyMap?: (k: RunKey) => RunKey;
}

export interface ReportFile {
  name: string;
  content: string;
}

export interface Report {
  files: ReportFile[];
  /** The Markdown of the paper tables, then of every group: what the terminal shows. */
  markdown: string;
  tables: TableId[];
  groups: Group[];
  /** Runs left out: not done, unreadable, or a repeated seed. */
  skipped: Skipped[];
  warnings: string[];
}

/** Paper tables with at least one row matched by a group, in the paper's order. */
export function matchedTables(groups: Group[], keyMap: (k: RunKey) => RunKey = (k) => k): TableId[] {
  const have = new Set(groups.map((g) => keyId(g.key)));
  return TABLE_IDS.filter((id) => PAPER_TABLES[id].panels.some((p) => p.cells.some((c) => have.has(keyId(keyMap(c.key))))));
}

export function buildReport(loaded: LoadedRuns, opts: ReportOptions = {}): Report {
  const keyMap = opts.keyMap ?? ((k: RunKey) => k);
  const { groups, duplicates } = groupRuns(loaded.runs);
  const skipped = [...loaded.skipped, ...duplicates];
  const curves = learningCurves(groups);
  const curveFiles = new Map(curves.map((c) => [c.key, c.file]));
  const ctx = { groups: new Map(groups.map((g) => [groupId(g), g])), keyMap, curves: curveFiles };
  const tables = opts.tables ?? matchedTables(groups, keyMap);
  const files: ReportFile[] = [];
  const markdown: string[] = [];
  for (const id of tables) {
    const out = renderPaperTable(PAPER_TABLES[id], ctx);
    files.push({ name: `${id}.md`, content: out.markdown }, { name: `${id}.csv`, content: out.csv });
    markdown.push(out.markdown);
  }
  const all = renderGroups(groups, skipped, loaded.warnings, curveFiles);
  files.push({ name: 'groups.md', content: all.markdown }, { name: 'groups.csv', content: all.csv });
  markdown.push(all.markdown);
  for (const c of curves) files.push({ name: c.file, content: c.svg });
  return { files, markdown: markdown.join('\n'), tables, groups, skipped, warnings: loaded.warnings };
}

/** Writes every report file into `outDir` (created if needed); returns the paths written. */
export function writeReport(report: Report, outDir: string): string[] {
  mkdirSync(outDir, { recursive: true });
  return report.files.map((f) => {
    const path = join(outDir, f.name);
    writeFileAtomic(path, f.content);
    return path;
  });
}

/** `mixup-run table` end to end, as a user runs it: a child process on fake run directories. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/paths.js';
import { writeGoldenRuns } from './fake-runs.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('table --runs writes Markdown, CSV and SVG, prints the tables and says what it skipped', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'table-cli-'));
  writeGoldenRuns(join(tmp, 'runs'));
  const out = join(tmp, 'out');
  const r = cli(['table', '--runs', join(tmp, 'runs', 'c10'), join(tmp, 'runs', 'short'), join(tmp, 'runs', 'bad'), '--out', out, '--table', 'table1a,table2']);
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(out).sort();
  for (const f of ['groups.csv', 'groups.md', 'table1a.csv', 'table1a.md', 'table2.csv', 'table2.md']) assert.ok(files.includes(f), `missing ${f}`);
  assert.equal(files.filter((f) => /^curves-.*\.svg$/.test(f)).length, 2);
  assert.equal(readFileSync(join(out, 'table1a.md'), 'utf8'), readFileSync(join(root, 'test', 'fixtures', 'report', 'table1a.md'), 'utf8'));
  assert.match(r.stdout, /## Table 1a: CIFAR-10/);
  assert.match(r.stdout, /\| PreActResNet18 \| 5\.03 ± 0\.153 \(n=3\) \| 4\.83 ± 0\.066 \| \+0\.20 \|/);
  assert.match(r.stdout, /## Table 2: SVHN[\s\S]*### Runs: none found/);
  assert.match(r.stdout, /## All runs by group/);
  assert.match(r.stderr, /13 run directories: 9 used in 6 groups; 4 skipped \(1 status failed, 1 no summary\.json, 1 status running, 1 repeated seed\)/);
  assert.match(r.stderr, /skipped .*bad\/failed: status failed/);
  assert.ok(!readdirSync(out).some((f) => f.endsWith('.tmp')), 'no temporary files left');
});

test('table: without --table, writes the tables some run matches', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'table-cli-'));
  writeGoldenRuns(tmp);
  const out = join(tmp, 'out');
  const r = cli(['table', '--runs', tmp, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /tables: table1a, table5, table6, fgsm, v3-table1/);
  assert.ok(existsSync(join(out, 'v3-table1.md')) && !existsSync(join(out, 'table2.md')));
});

test('table: usage errors exit 2 and name the problem', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'table-cli-'));
  const empty = join(tmp, 'empty');
  mkdirSync(empty);
  const cases: [string[], RegExp][] = [
    [['table', '--runs', join(tmp, 'nope')], /--runs .*nope: no such directory/],
    [['table', '--runs', empty, '--out', join(tmp, 'o')], /no run directories under .*empty/],
    [['table', '--runs', empty, '--table', 'table4'], /--table table4: unknown table; known: table1a, .*, all/],
    [['table'], /required option '-r, --runs <dir\.\.\.>' not specified/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
  assert.ok(!existsSync(join(tmp, 'o')), 'nothing written');
});

/** `mixup-run reproduce` end to end at smoke scale, killed midway and rerun. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/paths.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');
const ARGS = ['reproduce', 'table1a', '--scale', 'smoke', '--seeds', '0,1', '--backend', 'wasm'];

function summaries(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of existsSync(dir) ? readdirSync(dir) : []) {
    for (const seed of statSync(join(dir, row)).isDirectory() ? readdirSync(join(dir, row)) : []) {
      const s = join(dir, row, seed, 'summary.json');
      if (existsSync(s)) out.set(`${row}/${seed}`, statSync(s).mtimeMs);
    }
  }
  return out;
}

test('killed midway and rerun, reproduce completes only the missing runs and writes every row', async () => {
  const out = mkdtempSync(join(tmpdir(), 'reproduce-'));
  const tableDir = join(out, 'table1a', 'smoke');
  // First attempt: SIGKILL once five runs have finished.
  await new Promise<void>((resolve) => {
    const child = spawn(process.execPath, [bin, ...ARGS, '--out', out], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if ((stderr.match(/^\[6\/18\]/m) ?? []).length > 0 && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', () => resolve());
  });
  const before = summaries(tableDir);
  assert.ok(before.size >= 5 && before.size < 18, `${before.size} runs finished before the kill`);

  const dry = spawnSync(process.execPath, [bin, ...ARGS, '--out', out, '--dry-run'], { cwd: root, encoding: 'utf8' });
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal((dry.stdout.match(/^\s+done /gm) ?? []).length, before.size);

  const rerun = spawnSync(process.execPath, [bin, ...ARGS, '--out', out], { cwd: root, encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.equal((rerun.stderr.match(/done, skipped/g) ?? []).length, before.size);
  const after = summaries(tableDir);
  assert.equal(after.size, 18);
  for (const [run, mtime] of before) assert.equal(after.get(run), mtime, `${run} was trained again`);

  for (const f of ['table1a.md', 'table1a.csv', 'groups.md']) assert.ok(existsSync(join(tableDir, f)), f);
  assert.ok(readdirSync(tableDir).some((f) => f.endsWith('.svg')));
  const md = readFileSync(join(tableDir, 'table1a.md'), 'utf8');
  for (const row of ['PreActResNet18', 'PreActResNet34', 'WRN-28-10']) assert.match(md, new RegExp(`\\| ${row} \\| [0-9.]+ ± [0-9.]+ \\(n=2\\)`));
  assert.match(md, /4\.83 ± 0\.066/, 'the paper figure stands beside ours');
});

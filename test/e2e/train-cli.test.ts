/** The `mixup-run train` command end to end, as a user runs it: a child process per run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/paths.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');

export function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

for (const mode of ['none', 'input', 'manifold'] as const) {
  test(`smoke training with mixup ${mode} writes a complete run directory`, () => {
    const out = mkdtempSync(join(tmpdir(), `runs-${mode}-`));
    const r = cli(['train', '--config', `configs/smoke/${mode}.yaml`, '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const [id] = readdirSync(out);
    const dir = join(out, id);
    for (const f of ['config.yaml', 'run.json', 'metrics.jsonl', 'metrics.csv', 'summary.json', 'checkpoint/model.json', 'checkpoint/weights.bin', 'checkpoint/optimizer.json', 'checkpoint/state.json']) {
      assert.ok(existsSync(join(dir, f)), `missing ${f}`);
    }
    const run = readJson(join(dir, 'run.json'));
    assert.equal(run.status, 'done');
    // auto picks the fastest backend present; run.json and summary.json name the same one.
    assert.ok(['tensorflow-gpu', 'tensorflow', 'onednn', 'wasm'].includes(run.backend.name), run.backend.name);
    assert.match(run.config_hash, /^[0-9a-f]{64}$/);
    const summary = readJson(join(dir, 'summary.json'));
    assert.equal(summary.mixup.mode, mode);
    assert.equal(summary.backend, run.backend.name);
    assert.equal(summary.epochs, 2);
    assert.ok(summary.final.test_acc >= 0 && summary.final.test_acc <= 1);
    assert.ok(Math.abs(summary.final.test_err - (1 - summary.final.test_acc)) < 1e-9);
    assert.ok(summary.best.test_acc >= summary.final.test_acc);
    assert.ok(summary.final.test_nll > 0);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.epoch), [1, 2]);
    const csv = readFileSync(join(dir, 'metrics.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'epoch,lr,train_loss,train_acc,test_loss,test_acc,test_err,seconds,images_per_s');
    assert.equal(csv.length, 3);
    const manifest = readJson(join(dir, 'checkpoint', 'model.json'));
    const names = manifest.weightsManifest[0].weights.map((w: { name: string }) => w.name);
    assert.ok(names.includes('conv1.weight') && names.includes('layer1.0.bn1.running_mean') && names.includes('linear.bias'));
    assert.match(r.stdout, /final: test acc/);
  });
}

test('same config and seed twice: identical summary figures', () => {
  const out = mkdtempSync(join(tmpdir(), 'runs-det-'));
  for (let i = 0; i < 2; i++) assert.equal(cli(['train', '--config', 'configs/smoke/manifold.yaml', '--out', out, '--seed', '7']).code, 0);
  const [a, b] = readdirSync(out).map((id) => readJson(join(out, id, 'summary.json')));
  assert.deepEqual(a.final, b.final);
  assert.deepEqual(a.best, b.best);
  assert.equal(a.seed, 7);
});

test('config errors exit 2, name key and line, and write nothing', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'bad-'));
  const out = join(tmp, 'runs');
  const cases: [string, RegExp][] = [
    ['dataset: {name: fashion-mnist-subset}\ntrain: {epochs: 1}\nmodle: {width: 2}\n', /bad\.yaml:3:1: modle: unknown key/],
    ['dataset: {name: fashion-mnist-subset}\ntrain:\n  epochs: "1"\n', /bad\.yaml:3:11: train\.epochs: must be a number/],
    ['dataset: {name: fashion-mnist-subset}\ntrain: {epochs: 1}\nmixup:\n  mode: input\n  alpha: -1\n', /bad\.yaml:5:10: mixup\.alpha: must be > 0/],
    ['dataset: {name: fashion-mnist-subset}\ntrain: {epochs: 1}\nmixup:\n  mode: manifold\n  layers: [0, 7]\n', /bad\.yaml:5:15: mixup\.layers\[1\]: must be ≤ 3/],
  ];
  for (const [yaml, pattern] of cases) {
    writeFileSync(join(tmp, 'bad.yaml'), yaml);
    const r = cli(['train', '--config', join(tmp, 'bad.yaml'), '--out', out]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    assert.ok(!existsSync(out), 'no run directory created');
  }
  const flag = cli(['train', '--config', 'configs/smoke/none.yaml', '--out', out, '--set', 'train.epochs=0']);
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /train\.epochs: must be > 0 \(from --set train\.epochs=0\)/);
  assert.equal(cli(['train', '--config', 'configs/smoke/none.yaml', '--bogus']).code, 2);
  assert.ok(!existsSync(out));
});

test('--dry-run prints the resolved config and the plan, writes nothing', () => {
  const out = join(mkdtempSync(join(tmpdir(), 'dry-')), 'runs');
  const r = cli(['train', '--config', 'configs/quickstart.yaml', '--out', out, '--dry-run', '--set', 'mixup.layers=[1,2]']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /# resolved config/);
  assert.match(r.stdout, /steps_per_epoch: 80/);
  assert.match(r.stdout, /eligible_layers:\n\s+- 1\n\s+- 2/);
  assert.ok(!existsSync(out));
});

test('--help teaches: flags with defaults and an example', () => {
  const r = cli(['train', '--help']);
  assert.equal(r.code, 0);
  for (const s of ['--config', '--set', '--seed', '--out', '--backend', '--dry-run', '(default:', 'results/runs', 'Examples:']) assert.ok(r.stdout.includes(s), s);
});

/**
 * `mixup-run eval` and `mixup-run eval-adversarial` end to end on a smoke model trained
 * here (a child process per command, as a user runs them).
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/runtime/paths.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

interface Row {
  attack: string;
  eps: number;
  eps_text: string;
  space: string;
  clip: boolean;
  loss: string;
  steps: number;
  step_size: number | null;
  accuracy: number;
  clean_accuracy: number;
}

let run = '';
let summary: { final: { test_acc: number; test_nll: number }; best: { test_acc: number } };

before(() => {
  // A smoke model that learns enough (≈ 40 % on 200 test images) for attacks to matter;
  // eval.fgsm makes train attack it once training is done.
  const out = mkdtempSync(join(tmpdir(), 'runs-adv-'));
  const r = cli([
    'train', '--config', 'configs/smoke/none.yaml', '--out', out, '--backend', 'wasm',
    '--set', 'train.loss=ce', '--set', 'train.epochs=3', '--set', 'train.lr=0.05', '--set', 'train.batch_size=25',
    '--set', 'dataset.train_limit=600', '--set', 'eval.fgsm={eps: [0, 4/255]}',
  ]);
  assert.equal(r.code, 0, r.stderr);
  run = join(out, readdirSync(out)[0]);
  summary = readJson(join(run, 'summary.json'));
  assert.ok(summary.final.test_acc > 0.25, `the smoke model learned (test acc ${summary.final.test_acc})`);
});

const rows = (dir = run): Row[] => readJson(join(dir, 'adversarial.json')).results;

test('train with eval.fgsm writes adversarial.json for the final weights', () => {
  const doc = readJson(join(run, 'adversarial.json'));
  assert.equal(doc.checkpoint, 'last');
  assert.equal(doc.n, 200);
  assert.deepEqual(doc.results.map((r: Row) => [r.attack, r.eps_text, r.space, r.clip, r.loss, r.steps, r.step_size]), [
    ['fgsm', '0', 'pixel', true, 'ce', 1, null],
    ['fgsm', '4/255', 'pixel', true, 'ce', 1, null],
  ]);
  const [zero, small] = doc.results as Row[];
  assert.equal(zero.accuracy, zero.clean_accuracy, 'ε = 0 is the clean accuracy');
  assert.ok(Math.abs(zero.clean_accuracy - summary.final.test_acc) <= 1 / 200, 'clean accuracy matches the run\'s final test accuracy');
  assert.ok(small.accuracy <= zero.accuracy);
  assert.ok(existsSync(join(run, 'adversarial.csv')));
});

test('eval re-evaluates the last and best checkpoints to the figures training reported', () => {
  const last = cli(['eval', '--run', run]);
  assert.equal(last.code, 0, last.stderr);
  const e = readJson(join(run, 'eval.json'));
  assert.equal(e.checkpoint, 'last');
  assert.equal(e.epoch, 3);
  assert.equal(e.n, 200);
  assert.equal(e.test_acc, summary.final.test_acc);
  assert.ok(Math.abs(e.test_nll - summary.final.test_nll) < 1e-6);
  assert.ok(Math.abs(e.test_err - (1 - e.test_acc)) < 1e-12);
  assert.match(last.stdout, /test acc \d+\.\d\d%  err \d+\.\d\d%  nll \d\.\d{4}/);
  const best = cli(['eval', '--run', run, '--checkpoint', 'best']);
  assert.equal(best.code, 0, best.stderr);
  assert.equal(readJson(join(run, 'eval.json')).test_acc, summary.best.test_acc);
});

test('FGSM: accuracy is non-increasing in ε; ε = 0 is clean; earlier rows are kept; a table on stdout', () => {
  // One-step FGSM is monotone for moderate ε only: far out it can overshoot (here ε 0.2 beat 0.1).
  const r = cli(['eval-adversarial', '--run', run, '--eps', '0,0.02,0.05,0.1']);
  assert.equal(r.code, 0, r.stderr);
  const fgsm = rows().filter((x) => x.attack === 'fgsm' && x.space === 'pixel').sort((a, b) => a.eps - b.eps);
  assert.deepEqual(fgsm.map((x) => x.eps_text), ['0', '4/255', '0.02', '0.05', '0.1'], 'the 4/255 row from training is kept');
  assert.equal(fgsm[0].accuracy, fgsm[0].clean_accuracy);
  for (let i = 1; i < fgsm.length; i++) assert.ok(fgsm[i].accuracy <= fgsm[i - 1].accuracy, `ε ${fgsm[i].eps_text}: ${fgsm[i].accuracy} > ${fgsm[i - 1].accuracy}`);
  assert.ok(fgsm.at(-1)!.accuracy < fgsm[0].accuracy - 0.1, 'a large ε hurts');
  assert.match(r.stdout, /attack\s+space\s+clip\s+loss\s+eps\s+steps\s+step\s+clean acc\s+adv acc/);
  assert.match(r.stdout, /fgsm\s+pixel\s+yes\s+ce\s+0\.1\s+1\s+-\s+\d+\.\d\d%\s+\d+\.\d\d%/);
  assert.match(r.stdout, /last checkpoint \(epoch 3\), n = 200/);
});

test('PGD with enough steps is at least as strong as FGSM; unbounded PGD is stronger still', () => {
  const bounded = cli(['eval-adversarial', '--run', run, '--attack', 'pgd', '--eps', '0.05', '--steps', '5', '--step-size', '0.015']);
  assert.equal(bounded.code, 0, bounded.stderr);
  const unbounded = cli(['eval-adversarial', '--run', run, '--attack', 'pgd', '--unbounded', '--steps', '10', '--step-size', '0.05']);
  assert.equal(unbounded.code, 0, unbounded.stderr);
  const all = rows();
  const fgsm = all.find((x) => x.attack === 'fgsm' && x.eps === 0.05)!;
  const pgd = all.find((x) => x.attack === 'pgd' && x.eps === 0.05)!;
  const free = all.find((x) => x.attack === 'pgd' && x.eps_text === 'unbounded')!;
  assert.deepEqual([pgd.steps, pgd.step_size, free.steps, free.step_size, free.eps], [5, 0.015, 10, 0.05, 0.5]);
  assert.ok(pgd.accuracy <= fgsm.accuracy, `PGD ${pgd.accuracy} vs FGSM ${fgsm.accuracy}`);
  assert.ok(free.accuracy < pgd.accuracy && free.accuracy <= 0.1, `unbounded PGD leaves ${free.accuracy}`);
});

test('normalized space, no clip, BCE: recorded as such, beside the pixel rows', () => {
  const r = cli(['eval-adversarial', '--run', run, '--space', 'normalized', '--eps', '0.01,0.03', '--no-clip', '--loss', 'bce']);
  assert.equal(r.code, 0, r.stderr);
  const norm = rows().filter((x) => x.space === 'normalized');
  assert.deepEqual(norm.map((x) => [x.eps, x.clip, x.loss]), [[0.01, false, 'bce'], [0.03, false, 'bce']]);
  assert.ok(norm[1].accuracy <= norm[0].accuracy && norm[0].accuracy <= norm[0].clean_accuracy);
  assert.ok(rows().some((x) => x.space === 'pixel'));
});

test('usage errors exit 2 with one line and write nothing', () => {
  const copy = mkdtempSync(join(tmpdir(), 'adv-copy-'));
  cpSync(run, copy, { recursive: true });
  for (const f of ['adversarial.json', 'adversarial.csv', 'eval.json']) rmSync(join(copy, f));
  rmSync(join(copy, 'checkpoint-best'), { recursive: true });
  const cases: [string[], RegExp][] = [
    [['eval-adversarial', '--run', copy, '--eps', '8/0'], /ε '8\/0': the denominator must be > 0/],
    [['eval-adversarial', '--run', copy, '--checkpoint', 'best'], /no best checkpoint/],
    [['eval', '--run', copy, '--checkpoint', 'best'], /no best checkpoint/],
    [['eval-adversarial', '--run', tmpdir()], /not a run directory/],
    [['eval-adversarial', '--run', copy, '--steps', '5'], /--steps applies only to --attack pgd/],
    [['eval-adversarial', '--run', copy, '--attack', 'pgd', '--unbounded', '--eps', '0.1'], /drop --eps/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
    assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
  }
  for (const f of ['adversarial.json', 'adversarial.csv', 'eval.json']) assert.ok(!existsSync(join(copy, f)), `${f} written`);
  // --limit attacks a prefix; rows of another n cannot join that file unless --replace.
  const limited = cli(['eval-adversarial', '--run', copy, '--eps', '0.1', '--limit', '50']);
  assert.equal(limited.code, 0, limited.stderr);
  assert.equal(readJson(join(copy, 'adversarial.json')).n, 50);
  const refused = cli(['eval-adversarial', '--run', copy, '--eps', '0.1', '--limit', '60']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /holds 1 rows measured on the last checkpoint with n = 50; rows for the last checkpoint with n = 60 cannot share it.*--replace/);
  assert.equal(readJson(join(copy, 'adversarial.json')).n, 50, 'left as it was');
  const replaced = cli(['eval-adversarial', '--run', copy, '--eps', '0.1', '--limit', '60', '--replace']);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.match(replaced.stderr, /note: replaced 1 earlier rows measured on checkpoint last with n = 50/);
  assert.equal(readJson(join(copy, 'adversarial.json')).n, 60);
});

test('--help states the defaults and the 2018 convention', () => {
  const r = cli(['eval-adversarial', '--help']);
  assert.equal(r.code, 0);
  for (const s of ['default: 4/255,8/255', 'default: "pixel"', 'default: "ce"', '--no-clip', '--space normalized --eps 0.01,0.03 --no-clip --loss bce', '--unbounded']) {
    assert.ok(r.stdout.includes(s), `help lacks ${s}`);
  }
});

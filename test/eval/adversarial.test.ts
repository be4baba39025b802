/** ε parsing, the adversarial.json/csv files and their merging, and the config's eval.fgsm block. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import { configuredFgsm, mergeAdversarial, parseEps, parseEpsList, writeAdversarial, type AdversarialFile, type AdversarialRow } from '../../src/eval/adversarial.js';
import { ConfigError, UsageError } from '../../src/runtime/errors.js';

test('ε parses numbers and fractions, keeping the text as written', () => {
  assert.deepEqual(parseEps('8/255'), { value: 8 / 255, text: '8/255' });
  assert.deepEqual(parseEps(' 0.03 '), { value: 0.03, text: '0.03' });
  assert.deepEqual(parseEps('0'), { value: 0, text: '0' });
  assert.deepEqual(parseEps('.5'), { value: 0.5, text: '.5' });
  assert.deepEqual(parseEps('1e-2'), { value: 0.01, text: '1e-2' });
  assert.deepEqual(parseEps('2.5/10'), { value: 0.25, text: '2.5/10' });
  assert.deepEqual(parseEpsList('0.01,0.03,8/255').map((e) => e.value), [0.01, 0.03, 8 / 255]);
  assert.deepEqual(parseEpsList('0.1, 1/10, 0.2').map((e) => e.text), ['0.1', '0.2'], 'a repeated value is measured once');
});

test('bad ε text is a UsageError naming the token', () => {
  for (const bad of ['', 'abc', '-0.1', '1/0', '0/0', '8/', '/255', '1/2/3', '0x10', 'Infinity', 'NaN', '3 /', '1e400']) {
    assert.throws(() => parseEps(bad), (e: unknown) => e instanceof UsageError && e.message.includes(`'${bad}'`), bad);
  }
  for (const bad of ['0.1,', ',0.1', '0.1,,0.2']) assert.throws(() => parseEpsList(bad), UsageError, bad);
});

const row = (over: Partial<AdversarialRow>): AdversarialRow => ({
  attack: 'fgsm', eps: 0.03, eps_text: '0.03', space: 'pixel', clip: true, loss: 'ce', steps: 1, step_size: null, accuracy: 0.5, clean_accuracy: 0.9, ...over,
});

test('merging keeps earlier settings and replaces a setting measured again', () => {
  const old: AdversarialFile = { checkpoint: 'last', n: 100, results: [row({ eps: 0.03 }), row({ eps: 0.01, eps_text: '0.01', accuracy: 0.7 }), row({ space: 'normalized', clip: false, loss: 'bce' })] };
  const next: AdversarialFile = { checkpoint: 'last', n: 100, results: [row({ eps: 0.03, accuracy: 0.45 }), row({ attack: 'pgd', steps: 10, step_size: 0.01, accuracy: 0.2 })] };
  const { file, note } = mergeAdversarial(old, next);
  assert.equal(note, undefined);
  assert.equal(file.results.length, 4);
  const find = (f: (r: AdversarialRow) => boolean) => file.results.filter(f);
  assert.deepEqual(find((r) => r.attack === 'fgsm' && r.space === 'pixel' && r.eps === 0.03).map((r) => r.accuracy), [0.45]);
  assert.equal(find((r) => r.eps === 0.01)[0].accuracy, 0.7);
  assert.equal(find((r) => r.space === 'normalized').length, 1);
  assert.equal(find((r) => r.attack === 'pgd').length, 1);
  // Sorted: fgsm before pgd, then space, clip, loss, steps, ε.
  assert.deepEqual(file.results.map((r) => [r.attack, r.space, r.eps]), [['fgsm', 'normalized', 0.03], ['fgsm', 'pixel', 0.01], ['fgsm', 'pixel', 0.03], ['pgd', 'pixel', 0.03]]);
  // Rows measured on other weights or another n cannot share the header: replaced, with a note.
  const other = mergeAdversarial(old, { ...next, checkpoint: 'best' });
  assert.equal(other.file.results.length, 2);
  assert.match(other.note ?? '', /replaced 3 earlier rows measured on checkpoint last with n = 100/);
  assert.equal(mergeAdversarial(old, { ...next, n: 50 }).file.results.length, 2);
});

test('writeAdversarial writes the JSON shape and a CSV with the convention columns, merging across calls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'adv-files-'));
  writeAdversarial(dir, { checkpoint: 'best', n: 10, results: [row({ eps: 8 / 255, eps_text: '8/255' })] });
  writeAdversarial(dir, { checkpoint: 'best', n: 10, results: [row({ attack: 'pgd', eps: 2, eps_text: 'unbounded', steps: 200, step_size: 0.01, accuracy: 0 })] });
  const doc = JSON.parse(readFileSync(join(dir, 'adversarial.json'), 'utf8'));
  assert.deepEqual(Object.keys(doc), ['checkpoint', 'n', 'results']);
  assert.equal(doc.checkpoint, 'best');
  assert.equal(doc.n, 10);
  assert.equal(doc.results.length, 2);
  assert.deepEqual(Object.keys(doc.results[0]), ['attack', 'eps', 'eps_text', 'space', 'clip', 'loss', 'steps', 'step_size', 'accuracy', 'clean_accuracy']);
  assert.equal(doc.results[0].step_size, null);
  const csv = readFileSync(join(dir, 'adversarial.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'checkpoint,n,attack,eps,eps_text,space,clip,loss,steps,step_size,accuracy,clean_accuracy');
  assert.equal(csv[1], `best,10,fgsm,${8 / 255},8/255,pixel,true,ce,1,,0.5,0.9`);
  assert.equal(csv[2], 'best,10,pgd,2,unbounded,pixel,true,ce,200,0.01,0,0.9');
  // Rows of another checkpoint or n: refused, the files untouched, unless replace.
  const before = readFileSync(join(dir, 'adversarial.json'), 'utf8');
  assert.throws(() => writeAdversarial(dir, { checkpoint: 'last', n: 10, results: [row({})] }), (e: unknown) => e instanceof UsageError && /on the best checkpoint with n = 10/.test(e.message));
  assert.throws(() => writeAdversarial(dir, { checkpoint: 'best', n: 11, results: [row({})] }), UsageError);
  assert.equal(readFileSync(join(dir, 'adversarial.json'), 'utf8'), before);
  assert.match(writeAdversarial(dir, { checkpoint: 'best', n: 11, results: [row({})] }, true).note ?? '', /replaced 2 earlier rows/);
  // An unreadable file is replaced, and the caller is told.
  writeFileSync(join(dir, 'adversarial.json'), '{ not json');
  const merged = writeAdversarial(dir, { checkpoint: 'last', n: 10, results: [row({})] });
  assert.match(merged.note ?? '', /unreadable/);
  assert.equal(JSON.parse(readFileSync(join(dir, 'adversarial.json'), 'utf8')).results.length, 1);
});

const base = 'dataset: {name: fashion-mnist-subset}\ntrain: {epochs: 1}\n';

test('eval.fgsm: defaults are the pixel convention; fractions and numbers are accepted; absent means no attack', () => {
  const none = parseConfig(base, 'x.yaml');
  assert.equal(none.config.eval.fgsm, undefined);
  assert.deepEqual(configuredFgsm(none.config), []);
  const d = parseConfig(`${base}eval: {fgsm: {}}\n`, 'x.yaml').config;
  assert.deepEqual(d.eval.fgsm, { eps: ['4/255', '8/255'], space: 'pixel', clip: true, loss: 'ce' });
  const set = configuredFgsm(parseConfig(`${base}eval:\n  fgsm: {eps: [0.01, 8/255], space: normalized, clip: false, loss: bce}\n`, 'x.yaml').config);
  assert.deepEqual(set.map((s) => [s.attack, s.eps, s.epsText, s.space, s.clip, s.loss, s.steps, s.stepSize]), [
    ['fgsm', 0.01, '0.01', 'normalized', false, 'bce', 1, null],
    ['fgsm', 8 / 255, '8/255', 'normalized', false, 'bce', 1, null],
  ]);
  // A config without the block hashes as before the block existed.
  assert.equal(parseConfig(`${base}eval: {batch_size: 500}\n`, 'x.yaml').hash, none.hash);
});

test('eval.fgsm: bad values are config errors with their key path', () => {
  const cases: [string, RegExp][] = [
    ['eval: {fgsm: {eps: [1/0]}}', /eval\.fgsm\.eps\[0\]/],
    ['eval: {fgsm: {eps: [-0.1]}}', /eval\.fgsm\.eps\[0\]/],
    ['eval: {fgsm: {eps: []}}', /eval\.fgsm\.eps/],
    ['eval: {fgsm: {space: pixels}}', /eval\.fgsm\.space/],
    ['eval: {fgsm: {loss: mse}}', /eval\.fgsm\.loss/],
    ['eval: {fgsm: {epsilon: [0.1]}}', /eval\.fgsm.*epsilon/],
  ];
  for (const [yaml, pattern] of cases) {
    assert.throws(() => parseConfig(`${base}${yaml}\n`, 'x.yaml'), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), yaml);
  }
});

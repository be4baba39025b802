/**
 * Every input a user can get wrong: a one-line-per-problem error naming the thing, exit 2,
 * no stack trace, and no file created or altered.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { main } from '../../src/cli.js';
import type { Reporter } from '../../src/commands/report.js';
import { encodeIdx } from '../../src/data/idx.js';

const GOOD = `name: bad-inputs
dataset: {name: fashion-mnist-subset, train_limit: 40, test_limit: 20}
model: {width: 2}
train: {epochs: 1, batch_size: 20}
`;

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const report: Reporter = {
    out: (t) => void (stdout += `${t}\n`),
    err: (t) => void (stderr += `${t}\n`),
    setExit: () => {},
    abort: (m) => {
      throw new Error(`abort: ${m}`);
    },
    progressStream: null,
  };
  const code = await main(args, report);
  return { code, stdout, stderr };
}

/** A digest of every file below `dir` (names, sizes, contents), to prove nothing changed. */
function treeDigest(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      h.update(p);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

let tmp = '';
let runDir = '';
const out = () => join(tmp, 'out');

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'bad-inputs-'));
  writeFileSync(join(tmp, 'good.yaml'), GOOD);
  // One real run to resume from.
  const r = await cli(['train', '--config', join(tmp, 'good.yaml'), '--out', join(tmp, 'runs')]);
  assert.equal(r.code, 0, r.stderr);
  runDir = join(tmp, 'runs', readdirSync(join(tmp, 'runs'))[0]);
  // A copy whose run.json is garbage, and one whose config no longer fits its checkpoint.
  for (const [name, edit] of [
    ['garbled', (d: string) => writeFileSync(join(d, 'run.json'), '{"run_id": ')],
    ['otherarch', (d: string) => {
      writeFileSync(join(d, 'config.yaml'), readFileSync(join(d, 'config.yaml'), 'utf8').replace('width: 2', 'width: 3'));
      const m = JSON.parse(readFileSync(join(d, 'run.json'), 'utf8'));
      writeFileSync(join(d, 'run.json'), JSON.stringify({ ...m, status: 'interrupted' }));
    }],
  ] as const) {
    const d = join(tmp, name);
    mkdirSync(join(d, 'checkpoint'), { recursive: true });
    for (const f of ['run.json', 'config.yaml']) writeFileSync(join(d, f), readFileSync(join(runDir, f)));
    for (const f of readdirSync(join(runDir, 'checkpoint'))) writeFileSync(join(d, 'checkpoint', f), readFileSync(join(runDir, 'checkpoint', f)));
    edit(d);
  }
  // Dataset folders: empty, and one with a truncated image file.
  mkdirSync(join(tmp, 'empty-data'));
  const data = join(tmp, 'trunc-data');
  mkdirSync(data);
  writeFileSync(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx([2, 28, 28], new Uint8Array(2 * 784)).subarray(0, 900)));
  writeFileSync(join(data, 'train-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([2], new Uint8Array(2))));
  writeFileSync(join(data, 't10k-images-idx3-ubyte.gz'), gzipSync(encodeIdx([1, 28, 28], new Uint8Array(784))));
  writeFileSync(join(data, 't10k-labels-idx1-ubyte.gz'), gzipSync(encodeIdx([1], new Uint8Array(1))));
  mkdirSync(join(tmp, 'a-directory.yaml'));
});

type Case = { name: string; yaml?: string; args?: () => string[]; code?: number; message: RegExp; protect?: () => string };

const withYaml = (body: string) => body;
const replace = (from: string, to: string) => GOOD.replace(from, to);
const add = (line: string) => `${GOOD}${line}\n`;

const cases: Case[] = [
  // Config files
  { name: 'YAML syntax error', yaml: 'dataset: {name: [\n', message: /cfg\.yaml:\d+:\d+: .*YAML syntax/ },
  { name: 'duplicate key', yaml: add('seed: 1\nseed: 2'), message: /cfg\.yaml:\d+:\d+: .*YAML syntax.*[Mm]ap keys must be unique/ },
  { name: 'not a mapping', yaml: '- a\n- b\n', message: /cfg\.yaml:1:1: .*mapping/ },
  { name: 'empty file', yaml: '', message: /dataset: is required/ },
  { name: 'unknown top-level key', yaml: add('optimiser: sgd'), message: /cfg\.yaml:5:1: optimiser: unknown key/ },
  { name: 'unknown nested key', yaml: replace('width: 2', 'width: 2, depth: 18'), message: /cfg\.yaml:3:19: model\.depth: unknown key \(allowed here: arch, width, final_bn\)/ },
  { name: 'missing dataset', yaml: 'train: {epochs: 1}\n', message: /dataset: is required/ },
  { name: 'missing epochs', yaml: replace('epochs: 1, ', ''), message: /train\.epochs: is required/ },
  { name: 'epochs as text', yaml: replace('epochs: 1', 'epochs: one'), message: /cfg\.yaml:4:17: train\.epochs: must be a number, got string/ },
  { name: 'fractional epochs', yaml: replace('epochs: 1', 'epochs: 1.5'), message: /train\.epochs: must be an integer/ },
  { name: 'batch size 0', yaml: replace('batch_size: 20', 'batch_size: 0'), message: /train\.batch_size: must be > 0/ },
  { name: 'negative lr', yaml: add('seed: 0').replace('batch_size: 20', 'batch_size: 20, lr: -0.1'), message: /train\.lr: must be > 0/ },
  { name: 'momentum 1', yaml: replace('batch_size: 20', 'batch_size: 20, momentum: 1'), message: /train\.momentum: must be < 1/ },
  { name: 'milestones out of order', yaml: replace('batch_size: 20', 'batch_size: 20, milestones: [5, 3]'), message: /train\.milestones\[1\]: milestones must be strictly increasing/ },
  { name: 'micro-batch above batch', yaml: replace('batch_size: 20', 'batch_size: 20, micro_batch: 30'), message: /train\.micro_batch: must be ≤ batch_size/ },
  { name: 'unknown loss', yaml: replace('batch_size: 20', 'batch_size: 20, loss: mse'), message: /train\.loss: must be one of "bce", "ce"/ },
  { name: 'unknown mode', yaml: add('mixup: {mode: cutmix}'), message: /mixup\.mode: must be one of "none", "input", "manifold"/ },
  { name: 'alpha 0, manifold', yaml: add('mixup: {mode: manifold, alpha: 0}'), message: /mixup\.alpha: must be > 0/ },
  { name: 'alpha negative, input', yaml: add('mixup: {mode: input, alpha: -1}'), message: /mixup\.alpha: must be > 0/ },
  { name: 'alpha with mode none', yaml: add('mixup: {mode: none, alpha: 1}'), message: /mixup\.alpha: has no effect with mode 'none'/ },
  { name: 'layer index 4', yaml: add('mixup: {mode: manifold, layers: [0, 4]}'), message: /mixup\.layers\[1\]: must be ≤ 3/ },
  { name: 'negative layer', yaml: add('mixup: {mode: manifold, layers: [-1]}'), message: /mixup\.layers\[0\]: must be ≥ 0/ },
  { name: 'layer listed twice', yaml: add('mixup: {mode: manifold, layers: [1, 1]}'), message: /mixup\.layers: lists a layer twice/ },
  { name: 'empty layer set', yaml: add('mixup: {mode: manifold, layers: []}'), message: /mixup\.layers: must name at least one layer/ },
  { name: 'input mixup at layer 2', yaml: add('mixup: {mode: input, layers: [2]}'), message: /mixup\.layers: input mixup mixes at layer 0 only/ },
  { name: 'unknown dataset', yaml: replace('fashion-mnist-subset', 'cifar11'), message: /dataset\.name: must be one of/ },
  { name: 'mean with wrong channel count', yaml: replace('test_limit: 20', 'test_limit: 20, mean: [0.5, 0.5, 0.5]'), message: /dataset\.mean: needs one value per channel/ },
  { name: 'zero std', yaml: replace('test_limit: 20', 'test_limit: 20, std: [0]'), message: /dataset\.std\[0\]: must be > 0/ },
  { name: 'width 0', yaml: replace('width: 2', 'width: 0'), message: /model\.width: must be > 0/ },
  { name: 'unknown architecture', yaml: replace('width: 2', 'width: 2, arch: resnet9000'), message: /model\.arch: must be one of/ },
  { name: 'negative seed', yaml: add('seed: -4'), message: /seed: must be ≥ 0/ },
  { name: 'crop padding above 16', yaml: replace('test_limit: 20', 'test_limit: 20, augment: {crop_padding: 40}'), message: /dataset\.augment\.crop_padding: must be ≤ 16/ },
  // Flags
  { name: '--set without =', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--set', 'train.lr'], message: /--set: train\.lr: expected key\.path=value/ },
  { name: '--set with a bad value', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--set', 'train.lr=fast'], message: /train\.lr: must be a number, got string \(from --set train\.lr=fast\)/ },
  { name: '--set of an unknown key', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--set', 'train.lrr=0.1'], message: /train\.lrr: unknown key .*\(from --set train\.lrr=0\.1\)/ },
  { name: '--seed not a number', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--seed', 'abc'], message: /--seed abc: expected a whole number/ },
  { name: '--backend unknown', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--backend', 'tpu'], message: /argument 'tpu' is invalid.*Allowed choices are auto, tensorflow-gpu/ },
  { name: 'unknown flag', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--epochs', '3'], message: /unknown option '--epochs'/ },
  { name: 'unknown command', args: () => ['trian'], message: /unknown command 'trian'/ },
  { name: 'no --config', args: () => ['train', '--out', out()], message: /train needs --config FILE/ },
  { name: '--resume with --config', args: () => ['train', '--resume', runDir, '--config', join(tmp, 'good.yaml')], message: /--resume continues a run with its own config\.yaml/ },
  { name: '--force without --resume', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--force'], message: /--force only applies to --resume/ },
  // Files
  { name: 'config file missing', args: () => ['train', '--config', join(tmp, 'nope.yaml'), '--out', out()], message: /nope\.yaml: .*no such file/ },
  { name: 'config is a directory', args: () => ['train', '--config', join(tmp, 'a-directory.yaml'), '--out', out()], message: /a-directory\.yaml: .*is a directory/ },
  { name: 'dataset dir missing', args: () => ['train', '--config', join(tmp, 'good.yaml'), '--out', out(), '--data-dir', join(tmp, 'no-such-data')], message: /no-such-data: no such folder/ },
  { name: 'dataset dir without the files', yaml: replace('fashion-mnist-subset', 'fashion-mnist'), args: () => ['train', '--config', join(tmp, 'cfg.yaml'), '--out', out(), '--data-dir', join(tmp, 'empty-data')], message: /empty-data: missing train-images-idx3-ubyte/ },
  { name: 'truncated dataset file', yaml: replace('fashion-mnist-subset', 'fashion-mnist'), args: () => ['train', '--config', join(tmp, 'cfg.yaml'), '--out', out(), '--data-dir', join(tmp, 'trunc-data')], message: /train-images-idx3-ubyte\.gz: (corrupt gzip|.*truncated)/ },
  { name: 'resume of a missing folder', args: () => ['train', '--resume', join(tmp, 'nowhere')], message: /nowhere: no such run directory/ },
  { name: 'resume of a folder that is not a run', args: () => ['train', '--resume', join(tmp, 'empty-data')], message: /empty-data: not a run directory/, protect: () => join(tmp, 'empty-data') },
  { name: 'resume with a garbled run.json', args: () => ['train', '--resume', join(tmp, 'garbled')], message: /garbled\/run\.json: unreadable run manifest/, protect: () => join(tmp, 'garbled') },
  { name: 'checkpoint of another architecture', args: () => ['train', '--resume', join(tmp, 'otherarch'), '--force'], message: /otherarch\/checkpoint: checkpoint does not fit preactresnet18.*wrong shape/, protect: () => join(tmp, 'otherarch') },
];

test(`${cases.length} bad inputs: exit 2, a message naming the culprit, nothing written`, async () => {
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    if (c.yaml !== undefined) writeFileSync(join(tmp, 'cfg.yaml'), withYaml(c.yaml));
    const args = c.args ? c.args() : ['train', '--config', join(tmp, 'cfg.yaml'), '--out', out()];
    const guarded = c.protect?.();
    const before = guarded ? treeDigest(guarded) : '';
    const runsBefore = treeDigest(join(tmp, 'runs'));
    const r = await cli(args);
    assert.equal(r.code, c.code ?? 2, `${c.name}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, c.message, `${c.name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+\)?\n/, `${c.name}: stack trace printed`);
    assert.ok(!existsSync(out()), `${c.name}: created ${out()}`);
    if (guarded) assert.equal(treeDigest(guarded), before, `${c.name}: altered ${guarded}`);
    assert.equal(treeDigest(join(tmp, 'runs')), runsBefore, `${c.name}: altered the existing run`);
  }
});

test('--verbose adds the stack trace', async () => {
  writeFileSync(join(tmp, 'cfg.yaml'), add('mixup: {mode: manifold, alpha: 0}'));
  const r = await cli(['--verbose', 'train', '--config', join(tmp, 'cfg.yaml'), '--out', out()]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ConfigError/);
  assert.match(r.stderr, /at .+:\d+:\d+/);
});

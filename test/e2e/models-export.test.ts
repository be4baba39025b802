/** `mixup-run models` and `mixup-run export` as a user runs them: child processes, real run directories. */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeNpz } from '../../src/models/npz.js';
import { toTorchLayout } from '../../src/models/state_dict.js';
import { readTensors } from '../../src/train/checkpoint.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { tf, useBackend } from '../helpers/tf.js';

const root = packageRoot();
const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, [join(root, 'dist', 'src', 'bin.js'), ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

before(() => useBackend('cpu'));

test('models lists every architecture with the reference parameter counts and mixing layers', () => {
  const r = cli(['models']);
  assert.equal(r.code, 0, r.stderr);
  for (const [arch, p10, p100] of [
    ['preactresnet18', '11,171,146', '11,217,316'],
    ['preactresnet34', '21,279,306', ''],
    ['preactresnet50', '23,509,066', ''],
    ['preactresnet101', '42,501,194', ''],
    ['preactresnet152', '58,144,842', ''],
    ['wrn28_10', '36,489,290', '36,546,980'],
    ['wrn28_2', '1,469,642', ''],
  ]) {
    const line = r.stdout.split('\n').find((l) => l.startsWith(`${arch} `));
    assert.ok(line, arch);
    assert.ok(line.includes(p10) && line.includes(p100), line);
    assert.match(line, /0,1,2,3 \(0,1,2\)$/);
  }
  const json = JSON.parse(cli(['models', '--json', '--width', '8']).stdout) as { arch: string; width: number; params_10: number }[];
  assert.equal(json.length, 7);
  assert.ok(json.every((m) => m.width === 8));
  assert.equal(cli(['models', '--width', 'wide']).code, 2);
});

test('export writes the run as a PyTorch state_dict: layout, names, running statistics, num_batches_tracked', () => {
  const out = mkdtempSync(join(tmpdir(), 'export-'));
  const trained = cli(['train', '--config', 'configs/smoke/manifold.yaml', '--out', out]);
  assert.equal(trained.code, 0, trained.stderr);
  const run = join(out, readdirSync(out)[0]);
  const file = join(out, 'sd.npz');
  const r = cli(['export', '--run', run, '--out', file]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), file);

  const sd = decodeNpz(readFileSync(file));
  const { tensors } = readTensors(join(run, 'checkpoint'), 'model.json');
  // Every checkpoint tensor, in PyTorch layout; plus one num_batches_tracked per BatchNorm.
  const bns = [...tensors.keys()].filter((k) => k.endsWith('.running_var'));
  assert.equal(sd.size, tensors.size + bns.length);
  for (const [name, t] of tensors) {
    const a = sd.get(name);
    assert.ok(a, name);
    const torch = tf.tidy(() => toTorchLayout(t));
    assert.deepEqual(a.shape, torch.shape, name);
    assert.deepEqual(a.data, torch.dataSync(), name);
    torch.dispose();
  }
  assert.deepEqual(sd.get('conv1.weight')!.shape, [2, 1, 3, 3]); // width 2, one input channel
  assert.deepEqual(sd.get('linear.weight')!.shape, [10, 16]);
  // The smoke run: 2 epochs of 300 images in batches of 50, no micro-batches = 12 forwards.
  for (const bn of bns) assert.deepEqual([...(sd.get(bn.replace('running_var', 'num_batches_tracked'))!.data as BigInt64Array)], [12n], bn);
  assert.ok([...sd.keys()].indexOf('layer1.0.bn1.num_batches_tracked') === [...sd.keys()].indexOf('layer1.0.bn1.running_var') + 1);
  tf.dispose([...tensors.values()]);

  // The default file sits in the run directory.
  const again = cli(['export', '--run', run]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), join(run, 'pytorch_state_dict.npz'));

  // The best checkpoint: its own weights, and the forwards up to its epoch (6 per epoch).
  const best = cli(['export', '--run', run, '--checkpoint', 'best']);
  assert.equal(best.code, 0, best.stderr);
  assert.equal(best.stdout.trim(), join(run, 'pytorch_state_dict-best.npz'));
  const bestSd = decodeNpz(readFileSync(join(run, 'pytorch_state_dict-best.npz')));
  const bestCkpt = readTensors(join(run, 'checkpoint-best'), 'model.json');
  assert.ok(typeof bestCkpt.meta.epoch === 'number' && bestCkpt.meta.epoch >= 1);
  const w = tf.tidy(() => toTorchLayout(bestCkpt.tensors.get('linear.weight')!));
  assert.deepEqual(bestSd.get('linear.weight')!.data, w.dataSync());
  assert.deepEqual([...(bestSd.get(bns[0].replace('running_var', 'num_batches_tracked'))!.data as BigInt64Array)], [BigInt(6 * bestCkpt.meta.epoch)]);
  tf.dispose([w, ...bestCkpt.tensors.values()]);

  // A config that no longer fits the checkpoint is refused, naming the problem; no file is written.
  const cfg = readFileSync(join(run, 'config.yaml'), 'utf8');
  writeFileSync(join(run, 'config.yaml'), cfg.replace(/width: 2/, 'width: 4'));
  const bad = cli(['export', '--run', run, '--out', join(out, 'bad.npz')]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /conv1\.weight has shape/);
  assert.ok(!readdirSync(out).includes('bad.npz'));
});

test('export of a folder that is not a run directory exits 2 and says why', () => {
  const r = cli(['export', '--run', mkdtempSync(join(tmpdir(), 'norun-'))]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no config\.yaml/);
  assert.equal(cli(['export', '--run', '.', '--format', 'onnx']).code, 2);
  assert.equal(cli(['export', '--run', '.', '--checkpoint', 'first']).code, 2);
});

/** `mixup-run datasets …` and the paper configs as a user meets them: a child process per command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { serve } from './server.js';
import { makeWorld } from './world.js';

const root = packageRoot();
const bin = join(root, 'dist', 'src', 'bin.js');
const world = makeWorld();

/** Runs the CLI asynchronously, so a loopback server in this process keeps answering. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const emptyCache = () => mkdtempSync(join(tmpdir(), 'cache-'));
const oneLine = (stderr: string) => stderr.trim().split('\n').filter((l) => l.startsWith('mixup-run: '));

test('verify fashion-mnist succeeds on the Debian package files (content matches the published MD5s)', async (t) => {
  const debian = '/usr/share/datasets/fashion-mnist';
  if (!existsSync(debian)) {
    // CI installs the package (.ci/run), so there the check can never be skipped.
    if (process.env.CI) assert.fail(`${debian} is missing; .ci/run should have installed dataset-fashion-mnist`);
    t.skip(`${debian} is missing: apt-get install dataset-fashion-mnist`);
    return;
  }
  const r = await cli(['datasets', 'verify', 'fashion-mnist'], { MIXUP_RUN_CACHE: emptyCache() });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^fashion-mnist: system \/usr\/share\/datasets\/fashion-mnist$/m);
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) {
    assert.match(r.stdout, new RegExp(`(ok|content-ok) +${debian}/${f}\\.gz: .*(matches the published checksum|matches the published files' content)`));
  }
  assert.match(r.stdout, /decoded +60,000 train \/ 10,000 test images/);
  assert.match(r.stdout, /^fashion-mnist: ok$/m);
});

test('a mirror serving corrupted files: one-line error, exit 2, nothing left in the cache', async () => {
  const files: Record<string, Uint8Array> = {};
  for (const [f, b] of Object.entries(world.mnist.files)) files[`/mnist/${f}`] = b;
  const srv = await serve(files);
  try {
    const cache = emptyCache();
    // MIXUP_RUN_MIRROR moves the URLs only: these test files cannot match the published MD5s.
    const r = await cli(['datasets', 'download', 'mnist'], { MIXUP_RUN_CACHE: cache, MIXUP_RUN_MIRROR: `${srv.url}/` });
    assert.equal(r.code, 2);
    const lines = oneLine(r.stderr);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^mixup-run: download of train-images-idx3-ubyte\.gz from http:\/\/127\.0\.0\.1:\d+\/mnist\/train-images-idx3-ubyte\.gz: MD5 [0-9a-f]{32} of the [\d,]+ bytes received does not match the published f68b3c2dcbeaaa9fbdd348bbdeb94873; the file was discarded$/);
    assert.deepEqual(readdirSync(join(cache, 'mnist')), []);
    assert.equal(srv.requests.length, 1);
  } finally {
    await srv.close();
  }
});

test('a truncated archive or batch file in --data-dir: one-line error, exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mine-'));
  const archive = world.cifar10.files['cifar-10-binary.tar.gz'];
  writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), archive.subarray(0, archive.length - 100));
  const cache = emptyCache();
  // verify compares with the published MD5 first.
  const v = await cli(['datasets', 'verify', 'cifar10', '--data-dir', dir], { MIXUP_RUN_CACHE: cache });
  assert.equal(v.code, 2);
  const [line] = oneLine(v.stderr);
  assert.match(line, new RegExp(`^mixup-run: cifar10: ${dir}/cifar-10-binary\\.tar\\.gz: MD5 [0-9a-f]{32} does not match the published c32a1d4ab5d03f1284b67883e8d87530: the file is corrupt, truncated or not the official one; delete it and run: mixup-run datasets download cifar10$`));
  // Reading it (download/train path) fails on the gzip stream itself.
  const d = await cli(['datasets', 'download', 'cifar10', '--data-dir', dir], { MIXUP_RUN_CACHE: cache });
  assert.equal(d.code, 2);
  assert.match(oneLine(d.stderr)[0], /cifar-10-binary\.tar\.gz: corrupt or truncated gzip data \(unexpected end of file\); delete it and fetch it again$/);
  // An extracted folder with a cut batch file.
  const ext = join(mkdtempSync(join(tmpdir(), 'ext-')), 'cifar-10-batches-bin');
  mkdirSync(ext);
  for (const f of ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']) writeFileSync(join(ext, f), new Uint8Array(3073 * 2));
  writeFileSync(join(ext, 'data_batch_3.bin'), new Uint8Array(3073 + 100));
  const x = await cli(['datasets', 'verify', 'cifar10', '--data-dir', ext], { MIXUP_RUN_CACHE: cache });
  assert.equal(x.code, 2);
  assert.match(oneLine(x.stderr)[0], /data_batch_3\.bin: 3173 bytes is not a whole number of 3073-byte CIFAR records; the file is truncated or not CIFAR binary$/);
});

test('train --dry-run on a CIFAR-10 paper config plans the run with no data anywhere', async () => {
  const cache = emptyCache();
  const r = await cli(['train', '--config', 'configs/cifar10/cifar10-preactresnet18-manifold-a2-paper.yaml', '--dry-run'], { MIXUP_RUN_CACHE: cache });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^dataset: cifar10$/m);
  assert.match(r.stdout, /^train_examples: 50000$/m);
  assert.match(r.stdout, /^steps_per_epoch: 500$/m);
  assert.match(r.stdout, /^lr_schedule: 0\.1 → 0\.01 → 0\.001 at epochs 400, 800$/m);
  assert.deepEqual(readdirSync(cache), []);
});

test('train --dry-run on an SVHN config counts the images its per-class cap keeps', async () => {
  const cache = emptyCache();
  const r = await cli(['train', '--config', 'configs/svhn/svhn-preactresnet34-none-paper.yaml', '--dry-run'], { MIXUP_RUN_CACHE: cache });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^train_examples: 62156$/m);
  assert.match(r.stdout, /^steps_per_epoch: 622$/m);
  assert.deepEqual(readdirSync(cache), []);
});

test('every paper config validates and says which table row and schedule it reproduces', () => {
  const schedules: Record<string, [number, number[]]> = { paper: [1200, [400, 800]], code: [2000, [500, 1000, 1500]] };
  const readme = readFileSync(join(root, 'configs', 'README.md'), 'utf8');
  let count = 0;
  for (const dataset of ['cifar10', 'cifar100', 'svhn', 'tiny-imagenet']) {
    for (const f of readdirSync(join(root, 'configs', dataset))) {
      count++;
      const path = join(root, 'configs', dataset, f);
      const text = readFileSync(path, 'utf8');
      assert.match(text, /^# Table (1a|1b|2|3) \(.*\), row .*, column .*: target .*\.\n# Schedule: /, f);
      assert.ok(readme.includes(`\`${dataset}/${f}\``), `configs/README.md lists ${f}`);
      const { config } = loadConfig(path);
      const m = /^(.+)-(preactresnet18|preactresnet34|wrn28_10)-(none|input|manifold)(?:-a([\d.]+))?(?:-(paper|code))?\.yaml$/.exec(f);
      assert.ok(m, `name of ${f}`);
      const [, ds, arch, mode, alpha, schedule] = m;
      assert.equal(config.dataset.name, ds);
      assert.equal(config.model.arch, arch);
      assert.equal(config.mixup.mode, mode);
      assert.equal(config.mixup.alpha, alpha === undefined ? null : Number(alpha));
      const [epochs, milestones] = schedule ? schedules[schedule] : arch === 'wrn28_10' ? [400, [200, 300]] : [2000, [1000, 1500]];
      assert.equal(config.train.epochs, epochs, f);
      assert.deepEqual(config.train.milestones, milestones, f);
      assert.equal(config.train.batch_size, 100);
      assert.equal(config.dataset.per_class_cap, ds === 'svhn' ? 7325 : null);
    }
  }
  // Tables 1a, 1b, 2: 2 PreActResNets × 3 modes × 2 schedules + WRN × 3 modes; Table 3: 9 rows.
  assert.equal(count, 3 * 15 + 9);
});

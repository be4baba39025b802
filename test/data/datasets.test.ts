import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetsCommand } from '../../src/commands/datasets.js';
import type { Reporter } from '../../src/commands/report.js';
import { loadDataset, type Split } from '../../src/data/load.js';
import { ensureDataset, verifyDataset } from '../../src/data/prepare.js';
import { DataError } from '../../src/runtime/errors.js';
import { u8, type Images } from './formats.js';
import { serve, type TestServer } from './server.js';
import { makeWorld, servedFiles, worldSources, type Downloadable } from './world.js';

const world = makeWorld();
const fast = { retryDelayMs: 0, idleTimeoutMs: 5000 };
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const req = (name: Downloadable, extra = {}) => ({ name, dir: null, train_limit: null, test_limit: null, ...extra });

function sameSplit(got: Split, want: Images, what: string) {
  assert.equal(got.n, want.n, `${what}: count`);
  assert.deepEqual(u8(got.labels), u8(want.labels), `${what}: labels`);
  assert.ok(Buffer.from(u8(got.images)).equals(Buffer.from(u8(want.images))), `${what}: pixels differ`);
}

async function withServer<T>(fn: (srv: TestServer) => Promise<T>, opts = {}): Promise<T> {
  const srv = await serve(servedFiles(world), opts);
  try {
    return await fn(srv);
  } finally {
    await srv.close();
  }
}

test('every dataset downloads, extracts and reads back exactly as written', async () => {
  await withServer(async (srv) => {
    const cacheRoot = tmp('cache-');
    const sources = worldSources(world, srv.url);
    for (const name of Object.keys(world) as Downloadable[]) {
      const loc = await ensureDataset(req(name), { cacheRoot, sources, systemDirs: {}, download: fast });
      assert.equal(loc.where, 'cache');
      assert.equal(loc.dir, join(cacheRoot, name));
      const d = loadDataset(req(name), 0, { cacheRoot, systemDirs: {} });
      sameSplit(d.train, world[name].train, `${name} train`);
      sameSplit(d.test, world[name].test, `${name} test`);
    }
    assert.ok(existsSync(join(cacheRoot, 'cifar10', 'cifar-10-batches-bin', 'data_batch_5.bin')));
    assert.ok(existsSync(join(cacheRoot, 'cifar100', 'cifar-100-binary', 'train.bin')));
    assert.ok(existsSync(join(cacheRoot, 'tiny-imagenet', 'tiny-imagenet-200', 'val', 'images', 'val_3.JPEG')));
    assert.ok(!existsSync(join(cacheRoot, 'svhn', 'extra_32x32.mat')), 'optional files only on request');
    // Found in the cache: no second round of requests.
    const before = srv.requests.length;
    for (const name of Object.keys(world) as Downloadable[]) await ensureDataset(req(name), { cacheRoot, sources, systemDirs: {}, download: fast });
    assert.equal(srv.requests.length, before);
  });
});

test('decoded splits are cached: the second load reads the cache; a changed source rebuilds it', async () => {
  await withServer(async (srv) => {
    const cacheRoot = tmp('cache-');
    const opts = { cacheRoot, sources: worldSources(world, srv.url), systemDirs: {}, download: fast };
    await ensureDataset(req('cifar10'), opts);
    loadDataset(req('cifar10'), 0, opts);
    const cached = join(cacheRoot, 'cifar10', 'decoded', 'train.u8');
    assert.ok(existsSync(cached));
    // Mark the cached copy: a load that returns the mark read the cache, not the batches.
    const bytes = readFileSync(cached);
    const first = bytes.length - world.cifar10.train.images.length;
    bytes[first] ^= 0xff;
    writeFileSync(cached, bytes);
    assert.equal(loadDataset(req('cifar10'), 0, opts).train.images[0], world.cifar10.train.images[0] ^ 0xff);
    // A source file with a new modification time invalidates the cache.
    const batch = join(cacheRoot, 'cifar10', 'cifar-10-batches-bin', 'data_batch_1.bin');
    utimesSync(batch, new Date(), new Date(Date.now() + 5000));
    sameSplit(loadDataset(req('cifar10'), 0, opts).train, world.cifar10.train, 'rebuilt');
  });
});

test('SVHN: the extra split on request, and the per-class cap keeps a seeded pick of each class', async () => {
  await withServer(async (srv) => {
    const cacheRoot = tmp('cache-');
    const opts = { cacheRoot, sources: worldSources(world, srv.url), systemDirs: {}, download: fast };
    await ensureDataset(req('svhn', { extra: true }), opts);
    const d = loadDataset(req('svhn', { extra: true }), 0, opts);
    const w = world.svhn;
    sameSplit(d.train, { images: Buffer.concat([w.train.images, w.extra!.images]), labels: Buffer.concat([w.train.labels, w.extra!.labels]), n: w.train.n + w.extra!.n }, 'train+extra');
    const capped = loadDataset(req('svhn', { per_class_cap: 2 }), 3, opts).train;
    // Labels 1,0,1,3,1,9,0,2: class 1 has three images, all others at most two.
    assert.equal(capped.n, 7);
    assert.deepEqual([...capped.labels].sort(), [0, 0, 1, 1, 2, 3, 9]);
    // Kept images are original images, in file order.
    const originals = [...Array(w.train.n).keys()].map((i) => Buffer.from(w.train.images.subarray(i * 3072, (i + 1) * 3072)).toString('hex'));
    const kept = [...Array(capped.n).keys()].map((i) => originals.indexOf(Buffer.from(capped.images.subarray(i * 3072, (i + 1) * 3072)).toString('hex')));
    assert.ok(kept.every((k, i) => k >= 0 && (i === 0 || k > kept[i - 1])), `kept ${kept}`);
    assert.deepEqual(loadDataset(req('svhn', { per_class_cap: 2 }), 3, opts).train.labels, capped.labels);
    assert.throws(() => loadDataset(req('cifar10', { extra: true }), 0, opts), (e: Error) => e instanceof DataError && /only SVHN/.test(e.message));
  });
});

test('lookup order: a given folder only; else the cache; else system folders; archives are read in place', () => {
  const cacheRoot = tmp('cache-');
  const sys = tmp('sys-');
  for (const [f, b] of Object.entries(world.mnist.files)) writeFileSync(join(sys, f), b);
  const opts = { cacheRoot, systemDirs: { mnist: [sys] } };
  assert.equal(loadDataset(req('mnist'), 0, opts).source, sys);
  // The cache wins over the system folder.
  mkdirSync(join(cacheRoot, 'mnist'), { recursive: true });
  for (const [f, b] of Object.entries(world['fashion-mnist'].files)) writeFileSync(join(cacheRoot, 'mnist', f), b);
  sameSplit(loadDataset(req('mnist'), 0, opts).train, world['fashion-mnist'].train, 'cache first');
  // A folder holding only the official archive: read from the archive, nothing written into it.
  const mine = tmp('mine-');
  writeFileSync(join(mine, 'cifar-100-binary.tar.gz'), world.cifar100.files['cifar-100-binary.tar.gz']);
  const d = loadDataset({ ...req('cifar100'), dir: mine }, 0, opts);
  sameSplit(d.train, world.cifar100.train, 'from archive');
  assert.match(d.source, /cifar-100-binary\.tar\.gz:cifar-100-binary\/$/);
  assert.deepEqual(readdirSync(mine), ['cifar-100-binary.tar.gz']);
  // A given folder without the files is an error naming what it should hold, never a download.
  assert.throws(() => loadDataset({ ...req('cifar10'), dir: mine }, 0, opts), (e: Error) =>
    e instanceof DataError && e.message.includes(`${mine}: missing data_batch_1.bin, data_batch_2.bin`) && /expected cifar-10-batches-bin\/\{data_batch_1\.bin.*\(or cifar-10-binary\.tar\.gz\)/.test(e.message));
  assert.throws(() => loadDataset(req('cifar10'), 0, opts), (e: Error) =>
    e instanceof DataError && /no files found in .*cifar10.*mixup-run datasets download cifar10/.test(e.message));
});

test('verify: published checksums and counts pass; a corrupted archive is reported on one line', async () => {
  await withServer(async (srv) => {
    const cacheRoot = tmp('cache-');
    const opts = { cacheRoot, sources: worldSources(world, srv.url), systemDirs: {}, download: fast };
    await ensureDataset(req('tiny-imagenet'), opts);
    const ok = await verifyDataset(req('tiny-imagenet'), opts);
    assert.deepEqual(ok.problems, []);
    assert.deepEqual(ok.files.map((f) => f.status), ['ok']);
    assert.deepEqual(ok.counts, { train: 6, test: 4 });
    const zipPath = join(cacheRoot, 'tiny-imagenet', 'tiny-imagenet-200.zip');
    const bytes = readFileSync(zipPath);
    bytes[100] ^= 1;
    writeFileSync(zipPath, bytes);
    const bad = await verifyDataset(req('tiny-imagenet'), opts);
    assert.equal(bad.problems.length, 1);
    assert.match(bad.problems[0], /tiny-imagenet-200\.zip: MD5 [0-9a-f]{32} does not match the published [0-9a-f]{32}.*datasets download tiny-imagenet$/);
    assert.ok(!bad.problems[0].includes('\n'));
  });
});

function capture(): Reporter & { outText: string[]; errText: string[] } {
  const outText: string[] = [];
  const errText: string[] = [];
  return {
    outText,
    errText,
    out: (t) => void outText.push(t),
    err: (t) => void errText.push(t),
    setExit: () => {},
    abort: (m) => {
      throw new Error(m);
    },
    progressStream: null,
  };
}

test('datasets download|path|verify|list through the command, with plain progress lines off a TTY', async () => {
  await withServer(async (srv) => {
    const cacheRoot = tmp('cache-');
    const report = capture();
    const run = (...args: string[]) => datasetsCommand(report, { cacheRoot, sources: worldSources(world, srv.url), systemDirs: {}, download: fast }).parseAsync(args, { from: 'user' });
    await run('download', 'cifar100');
    assert.equal(report.outText.at(-1), `cifar100: ready in ${join(cacheRoot, 'cifar100')} (4 train / 2 test images)`);
    assert.ok(report.errText.some((l) => /^download cifar-100-binary\.tar\.gz: .* \(100%\)$/.test(l)), report.errText.join('\n'));
    assert.ok(report.errText.includes('extract cifar-100-binary.tar.gz: 3 files of 3 files (100%)'), report.errText.join('\n'));
    await run('path', 'cifar100');
    assert.equal(report.outText.at(-1), join(cacheRoot, 'cifar100'));
    await run('verify', 'cifar100');
    assert.equal(report.outText.at(-1), 'cifar100: ok');
    assert.ok(report.outText.some((l) => /^ {2}ok {9}.*cifar-100-binary\.tar\.gz: MD5 [0-9a-f]{32} matches the published checksum$/.test(l)));
    assert.ok(report.outText.includes('  decoded    4 train / 2 test images'));
    await run('list');
    const table = report.outText.at(-2)!;
    assert.match(table, new RegExp(`^cifar100 +32×32×3 +100 +50000/10000 +cache: ${cacheRoot}/cifar100$`, 'm'));
    assert.match(table, /^cifar10 +32×32×3 +10 +50000\/10000 +not downloaded$/m);
    await assert.rejects(run('path', 'svhn'), (e: Error) => e instanceof DataError && /downloads go to .*svhn\)$/.test(e.message));
    await assert.rejects(run('verify', 'imagenet'), /unknown dataset "imagenet"; known: fashion-mnist, fashion-mnist-subset, mnist, cifar10/);
  });
});

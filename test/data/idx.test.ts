import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeIdx, encodeIdx, readIdx } from '../../src/data/idx.js';
import { loadDataset } from '../../src/data/load.js';
import { DataError } from '../../src/runtime/errors.js';

test('IDX header by hand: magic 0x00000803, big-endian dimensions, then bytes', () => {
  const bytes = encodeIdx([2, 1, 3], Uint8Array.from([1, 2, 3, 4, 5, 6]));
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 8, 3]);
  assert.deepEqual([...bytes.subarray(4, 16)], [0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 3]);
  const back = decodeIdx(bytes, 'mem');
  assert.deepEqual(back.shape, [2, 1, 3]);
  assert.deepEqual([...back.data], [1, 2, 3, 4, 5, 6]);
});

test('plain and gzip IDX files read back; truncated and foreign files are DataErrors naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'idx-'));
  const bytes = encodeIdx([3], Uint8Array.from([7, 8, 9]));
  writeFileSync(join(dir, 'a'), bytes);
  writeFileSync(join(dir, 'a.gz'), gzipSync(bytes));
  writeFileSync(join(dir, 'short'), bytes.subarray(0, bytes.length - 1));
  writeFileSync(join(dir, 'png'), Uint8Array.from([0x89, 0x50, 0x4e, 0x47]));
  writeFileSync(join(dir, 'bad.gz'), Uint8Array.from([0x1f, 0x8b, 1, 2, 3]));
  assert.deepEqual([...readIdx(join(dir, 'a')).data], [7, 8, 9]);
  assert.deepEqual([...readIdx(join(dir, 'a.gz')).data], [7, 8, 9]);
  for (const [f, pattern] of [['short', /truncated/], ['png', /not an IDX file/], ['bad.gz', /corrupt gzip/], ['missing', /cannot read/]] as const) {
    assert.throws(() => readIdx(join(dir, f)), (e: Error) => e instanceof DataError && e.message.includes(f) && pattern.test(e.message));
  }
});

test('the embedded subset is balanced: 400 train and 100 test images per class', () => {
  const d = loadDataset({ name: 'fashion-mnist-subset', dir: null, train_limit: null, test_limit: null }, 0);
  assert.equal(d.train.n, 4000);
  assert.equal(d.test.n, 1000);
  for (const [split, per] of [[d.train, 400], [d.test, 100]] as const) {
    const counts = new Array(10).fill(0);
    split.labels.forEach((l) => counts[l]++);
    assert.deepEqual(counts, new Array(10).fill(per));
  }
  assert.equal(d.train.images.length, 4000 * 28 * 28);
});

test('limits pick a seeded subset; a dataset folder without files is a DataError with the fix', () => {
  const a = loadDataset({ name: 'fashion-mnist-subset', dir: null, train_limit: 50, test_limit: 20 }, 1);
  const b = loadDataset({ name: 'fashion-mnist-subset', dir: null, train_limit: 50, test_limit: 20 }, 1);
  assert.equal(a.train.n, 50);
  assert.deepEqual(a.train.labels, b.train.labels);
  const empty = mkdtempSync(join(tmpdir(), 'fm-'));
  assert.throws(
    () => loadDataset({ name: 'fashion-mnist', dir: empty, train_limit: null, test_limit: null }, 0),
    (e: Error) => e instanceof DataError && e.message.includes(empty) && /train-images-idx3-ubyte/.test(e.message),
  );
});

test('a Fashion-MNIST folder in IDX format is read with the right shapes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-'));
  const img = (n: number) => encodeIdx([n, 28, 28], Uint8Array.from({ length: n * 784 }, (_, i) => i % 251));
  const lab = (n: number) => encodeIdx([n], Uint8Array.from({ length: n }, (_, i) => i % 10));
  writeFileSync(join(dir, 'train-images-idx3-ubyte.gz'), gzipSync(img(20)));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte.gz'), gzipSync(lab(20)));
  writeFileSync(join(dir, 't10k-images-idx3-ubyte'), img(10));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), lab(10));
  const d = loadDataset({ name: 'fashion-mnist', dir, train_limit: null, test_limit: null }, 0);
  assert.equal(d.train.n, 20);
  assert.equal(d.test.n, 10);
  assert.equal(d.train.images[785], 785 % 251);
  // Labels beyond the class count are rejected.
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([10], Uint8Array.from({ length: 10 }, () => 12)));
  assert.throws(() => loadDataset({ name: 'fashion-mnist', dir, train_limit: null, test_limit: null }, 0), /label 12/);
});

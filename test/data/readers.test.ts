import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { CIFAR100_FORMAT, CIFAR10_FORMAT, decodeCifar } from '../../src/data/cifar.js';
import { matValues, readMat5 } from '../../src/data/mat5.js';
import { decodeSvhn } from '../../src/data/svhn.js';
import { decodeJpeg64 } from '../../src/data/tiny-imagenet.js';
import { DataError } from '../../src/runtime/errors.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { bytesFrom, cifarRecords, mat5, svhnVars, u8 } from './formats.js';

const fixture = (...p: string[]) => join(packageRoot(), 'test', 'fixtures', ...p);

test('CIFAR-10 records: label byte then R, G, B planes become NHWC pixels and labels', () => {
  const { bytes, expected } = cifarRecords(3, [[9], [0], [4]], 11);
  const s = decodeCifar([{ name: 'b1', bytes: bytes.subarray(0, 2 * 3073) }, { name: 'b2', bytes: bytes.subarray(2 * 3073) }], CIFAR10_FORMAT);
  assert.equal(s.n, 3);
  assert.deepEqual(u8(s.labels), expected.labels);
  assert.deepEqual(u8(s.images), expected.images);
  // One pixel by hand: image 1, row 2, column 5, green = byte 1024 + 2·32 + 5 of the planes.
  assert.equal(s.images[((1 * 32 + 2) * 32 + 5) * 3 + 1], bytes[3073 + 1 + 1024 + 69]);
});

test('CIFAR-100 records keep the fine label (second byte), not the coarse one', () => {
  const { bytes, expected } = cifarRecords(2, [[3, 77], [19, 5]], 12);
  const s = decodeCifar([{ name: 'train.bin', bytes }], CIFAR100_FORMAT);
  assert.deepEqual([...s.labels], [77, 5]);
  assert.deepEqual(u8(s.images), expected.images);
});

test('CIFAR files that are not whole records, or hold out-of-range labels, are DataErrors', () => {
  const { bytes } = cifarRecords(2, [[1], [2]], 1);
  assert.throws(() => decodeCifar([{ name: 'cut.bin', bytes: bytes.subarray(0, 5000) }], CIFAR10_FORMAT), (e: Error) => e instanceof DataError && /cut\.bin: 5000 bytes/.test(e.message));
  const bad = Uint8Array.from(bytes);
  bad[3073] = 10;
  assert.throws(() => decodeCifar([{ name: 'b.bin', bytes: bad }], CIFAR10_FORMAT), (e: Error) => e instanceof DataError && /record 1 has label 10/.test(e.message));
});

// The fixtures' pixel formula (scripts/make-mat-fixtures.py): X[r, c, ch, i] = (7r + 13c + 51ch + 101i + seed) % 256.
const fixturePixel = (r: number, c: number, ch: number, i: number, seed: number) => (7 * r + 13 * c + 51 * ch + 101 * i + seed) % 256;

test('scipy-written .mat files, uncompressed and compressed, read back exactly (labels 10 → 0)', () => {
  for (const [file, n, seed, labels] of [['train_32x32.mat', 5, 0, [0, 1, 5, 9, 0]], ['test_32x32.mat', 3, 17, [3, 0, 7]]] as const) {
    const bytes = readFileSync(fixture('svhn', file));
    const vars = readMat5(bytes, file);
    assert.deepEqual(vars.get('X')!.dims, [32, 32, 3, n]);
    assert.deepEqual(vars.get('y')!.dims, [n, 1]);
    const s = decodeSvhn(bytes, file);
    assert.equal(s.n, n);
    assert.deepEqual([...s.labels], labels);
    for (let i = 0; i < n; i++)
      for (let r = 0; r < 32; r++)
        for (let c = 0; c < 32; c++)
          for (let ch = 0; ch < 3; ch++) assert.equal(s.images[((i * 32 + r) * 32 + c) * 3 + ch], fixturePixel(r, c, ch, i, seed));
  }
  // The second fixture really is miCOMPRESSED (type 15 right after the header), the first is not.
  assert.equal(readFileSync(fixture('svhn', 'test_32x32.mat')).readUInt32LE(128), 15);
  assert.equal(readFileSync(fixture('svhn', 'train_32x32.mat')).readUInt32LE(128), 14);
});

test('MATLAB-style files: doubles stored compactly as miUINT8, small name elements, compressed or not', () => {
  const img = { images: bytesFrom(21, 4 * 3072), labels: Uint8Array.from([0, 3, 9, 0]), n: 4 };
  for (const stored of ['uint8', 'double'] as const) {
    for (const compress of [false, true]) {
      const bytes = mat5(svhnVars(img, stored), compress);
      const y = readMat5(bytes, 'm.mat').get('y')!;
      assert.equal(y.cls, 6);
      assert.deepEqual([...matValues(y)], [10, 3, 9, 10]);
      const s = decodeSvhn(bytes, 'm.mat');
      assert.deepEqual(u8(s.images), img.images);
      assert.deepEqual([...s.labels], [0, 3, 9, 0]);
    }
  }
});

test('MAT problems are one-line DataErrors: v7.3 HDF5, foreign files, truncation, missing variables', () => {
  const one = (pattern: RegExp) => (e: Error) => e instanceof DataError && pattern.test(e.message) && !e.message.includes('\n');
  const v73 = Buffer.alloc(512);
  v73.write('MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .', 0, 'latin1');
  assert.throws(() => readMat5(v73, 'v73.mat'), one(/v73\.mat: a MATLAB 7\.3 \(HDF5\) file/));
  assert.throws(() => readMat5(Buffer.alloc(200, 1), 'junk.mat'), one(/not a MATLAB 5 MAT-file/));
  const good = readFileSync(fixture('svhn', 'train_32x32.mat'));
  assert.throws(() => readMat5(good.subarray(0, 5000), 'cut.mat'), one(/cut\.mat: .*runs past the end.*corrupt or truncated/));
  const compressed = readFileSync(fixture('svhn', 'test_32x32.mat'));
  assert.throws(() => readMat5(compressed.subarray(0, 700), 'cutz.mat'), one(/cutz\.mat: element of .* runs past the end/));
  const onlyX = mat5([svhnVars({ images: new Uint8Array(3072), labels: Uint8Array.from([1]), n: 1 })[0]], true);
  assert.throws(() => decodeSvhn(onlyX, 'x.mat'), one(/expected variables X and y, found X/));
});

test('JPEG: colour images decode to the decoder\'s own output and, at quality 100, within ±8 of the source', () => {
  const src = new Uint8Array(64 * 64 * 4);
  for (let i = 0; i < 64 * 64; i++) {
    // A smooth gradient: JPEG at quality 100 reproduces it to a few levels.
    const r = Math.floor(i / 64);
    const c = i % 64;
    src.set([4 * r, 4 * c, (2 * r + 2 * c) % 256, 255], 4 * i);
  }
  const file = jpeg.encode({ data: src, width: 64, height: 64 }, 100).data;
  const out = decodeJpeg64(file, 'a.JPEG');
  const ref = jpeg.decode(file, { useTArray: true, formatAsRGBA: true }).data;
  let worst = 0;
  for (let i = 0; i < 64 * 64; i++) {
    for (let ch = 0; ch < 3; ch++) {
      assert.equal(out[3 * i + ch], ref[4 * i + ch]);
      worst = Math.max(worst, Math.abs(out[3 * i + ch] - src[4 * i + ch]));
    }
  }
  // Chroma subsampling and 8-bit YCbCr rounding bound the error of a smooth image.
  assert.ok(worst <= 8, `largest pixel error ${worst}`);
});

test('JPEG: a grayscale (one-component) file becomes three equal channels close to its source', () => {
  const file = readFileSync(fixture('tiny-imagenet', 'gray_64.JPEG'));
  // SOF0 marker: the component count byte is 1.
  const sof = file.indexOf(Buffer.from([0xff, 0xc0]));
  assert.equal(file[sof + 9], 1);
  const out = decodeJpeg64(file, 'gray.JPEG');
  assert.equal(out.length, 64 * 64 * 3);
  let worst = 0;
  for (let r = 0; r < 64; r++) {
    for (let c = 0; c < 64; c++) {
      const p = 3 * (r * 64 + c);
      assert.ok(out[p] === out[p + 1] && out[p] === out[p + 2]);
      const d = Math.abs(out[p] - ((3 * r + 2 * c) % 256));
      // The source wraps from 255 to 0 along diagonals: compare away from those edges.
      if ((3 * r + 2 * c) % 256 > 12 && (3 * r + 2 * c) % 256 < 243) worst = Math.max(worst, d);
    }
  }
  assert.ok(worst <= 12, `largest pixel error ${worst}`);
});

test('JPEG: wrong size and non-JPEG bytes are DataErrors', () => {
  const small = jpeg.encode({ data: new Uint8Array(32 * 32 * 4), width: 32, height: 32 }, 90).data;
  assert.throws(() => decodeJpeg64(small, 's.JPEG'), (e: Error) => e instanceof DataError && /32×32 image, expected 64×64/.test(e.message));
  assert.throws(() => decodeJpeg64(Buffer.from('not a jpeg'), 'n.JPEG'), (e: Error) => e instanceof DataError && /n\.JPEG: not a readable JPEG/.test(e.message));
});

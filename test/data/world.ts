/**
 * A small copy of every downloadable dataset in its official format (CIFAR tarballs,
 * SVHN .mat files, a Tiny-ImageNet-shaped zip of real JPEGs, IDX gz), with the pixels and
 * labels each must read back as, and a `Sources` table pointing at a loopback server.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import jpeg from 'jpeg-js';
import type { DatasetName } from '../../src/data/catalog.js';
import { encodeIdx } from '../../src/data/idx.js';
import type { Sources } from '../../src/data/sources.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { bytesFrom, cifarRecords, mat5, svhnVars, tar, zip, type Images } from './formats.js';

export type Downloadable = Exclude<DatasetName, 'fashion-mnist-subset'>;

export interface WorldDataset {
  /** Files as served: name → bytes. */
  files: Record<string, Uint8Array>;
  train: Images;
  test: Images;
  extra?: Images;
  extract: boolean;
}

const join3 = (parts: Images[]): Images => ({
  images: Buffer.concat(parts.map((p) => p.images)),
  labels: Buffer.concat(parts.map((p) => p.labels)),
  n: parts.reduce((s, p) => s + p.n, 0),
});

function cifar10(): WorldDataset {
  const batches = [1, 2, 3, 4, 5].map((i) => cifarRecords(2, [[i % 10], [(i * 3) % 10]], 100 + i));
  const test = cifarRecords(3, [[9], [0], [5]], 200);
  const archive = gzipSync(tar([
    { name: 'cifar-10-batches-bin/', type: '5' },
    ...batches.map((b, i) => ({ name: `cifar-10-batches-bin/data_batch_${i + 1}.bin`, data: b.bytes })),
    { name: 'cifar-10-batches-bin/test_batch.bin', data: test.bytes },
    { name: 'cifar-10-batches-bin/batches.meta.txt', data: Buffer.from('airplane\nautomobile\n') },
  ]));
  return { files: { 'cifar-10-binary.tar.gz': archive }, train: join3(batches.map((b) => b.expected)), test: test.expected, extract: true };
}

function cifar100(): WorldDataset {
  const train = cifarRecords(4, [[1, 99], [2, 0], [3, 42], [4, 42]], 300);
  const test = cifarRecords(2, [[5, 7], [6, 63]], 301);
  const archive = gzipSync(tar([
    { name: 'cifar-100-binary/train.bin', data: train.bytes },
    { name: 'cifar-100-binary/test.bin', data: test.bytes },
    { name: 'cifar-100-binary/fine_label_names.txt', data: Buffer.from('apple\n') },
  ]));
  return { files: { 'cifar-100-binary.tar.gz': archive }, train: train.expected, test: test.expected, extract: true };
}

function svhn(): WorldDataset {
  const img = (seed: number, labels: number[]): Images => ({ images: bytesFrom(seed, labels.length * 3072), labels: Uint8Array.from(labels), n: labels.length });
  // Eight training images: three of class 1, so a cap of 2 has work to do.
  const train = img(400, [1, 0, 1, 3, 1, 9, 0, 2]);
  const test = img(401, [0, 4, 8]);
  const extra = img(402, [7, 7]);
  return {
    files: {
      'train_32x32.mat': mat5(svhnVars(train), true),
      'test_32x32.mat': mat5(svhnVars(test, 'double'), false),
      'extra_32x32.mat': mat5(svhnVars(extra), true),
    },
    train,
    test,
    extra,
    extract: false,
  };
}

/** A 64×64 colour JPEG of random blocks and what the reference decoder makes of it. */
function jpegOf(seed: number): { file: Uint8Array; rgb: Uint8Array } {
  const rgba = new Uint8Array(64 * 64 * 4);
  const noise = bytesFrom(seed, 64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) rgba.set([noise[3 * i], noise[3 * i + 1], noise[3 * i + 2], 255], 4 * i);
  const file = jpeg.encode({ data: rgba, width: 64, height: 64 }, 90).data;
  return { file, rgb: referenceRgb(file) };
}

/** The decoder's own output through its RGBA path, alpha dropped: what the reader must return. */
function referenceRgb(file: Uint8Array): Uint8Array {
  const d = jpeg.decode(file, { useTArray: true, formatAsRGBA: true }).data;
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < 64 * 64; i++) rgb.set(d.subarray(4 * i, 4 * i + 3), 3 * i);
  return rgb;
}

function tinyImagenet(): WorldDataset {
  // wnids.txt is not sorted; class indices follow the sorted wnids.
  const wnids = ['n09999999', 'n01443537', 'n02094433'];
  const sorted = [...wnids].sort();
  const gray = readFileSync(join(packageRoot(), 'test', 'fixtures', 'tiny-imagenet', 'gray_64.JPEG'));
  const entries: { name: string; data: Uint8Array }[] = [{ name: 'tiny-imagenet-200/wnids.txt', data: Buffer.from(`${wnids.join('\n')}\n`) }];
  const train: Images[] = [];
  let seed = 500;
  for (const [label, wnid] of sorted.entries()) {
    for (let k = 0; k < 2; k++) {
      const { file, rgb } = label === 1 && k === 1 ? { file: gray, rgb: referenceRgb(gray) } : jpegOf(seed++);
      entries.push({ name: `tiny-imagenet-200/train/${wnid}/images/${wnid}_${k}.JPEG`, data: file });
      train.push({ images: rgb, labels: Uint8Array.from([label]), n: 1 });
    }
    entries.push({ name: `tiny-imagenet-200/train/${wnid}/${wnid}_boxes.txt`, data: Buffer.from(`${wnid}_0.JPEG\t0\t0\t63\t63\n`) });
  }
  const valWnids = ['n02094433', 'n09999999', 'n01443537', 'n02094433'];
  const test: Images[] = [];
  const lines: string[] = [];
  valWnids.forEach((wnid, k) => {
    const { file, rgb } = jpegOf(seed++);
    entries.push({ name: `tiny-imagenet-200/val/images/val_${k}.JPEG`, data: file });
    lines.push(`val_${k}.JPEG\t${wnid}\t0\t1\t62\t63`);
    test.push({ images: rgb, labels: Uint8Array.from([sorted.indexOf(wnid)]), n: 1 });
  });
  entries.push({ name: 'tiny-imagenet-200/val/val_annotations.txt', data: Buffer.from(`${lines.join('\n')}\n`) });
  entries.push({ name: 'tiny-imagenet-200/test/images/test_0.JPEG', data: jpegOf(seed++).file });
  return { files: { 'tiny-imagenet-200.zip': zip(entries, { zip64: true }) }, train: join3(train), test: join3(test), extract: true };
}

function idx(seed: number): WorldDataset {
  const split = (s: number, n: number): Images => ({ images: bytesFrom(s, n * 784), labels: Uint8Array.from({ length: n }, (_, i) => (i * 7 + s) % 10), n });
  const train = split(seed, 6);
  const test = split(seed + 1, 4);
  const gz = (shape: number[], data: Uint8Array) => gzipSync(encodeIdx(shape, data));
  return {
    files: {
      'train-images-idx3-ubyte.gz': gz([6, 28, 28], train.images),
      'train-labels-idx1-ubyte.gz': gz([6], train.labels),
      't10k-images-idx3-ubyte.gz': gz([4, 28, 28], test.images),
      't10k-labels-idx1-ubyte.gz': gz([4], test.labels),
    },
    train,
    test,
    extract: false,
  };
}

export function makeWorld(): Record<Downloadable, WorldDataset> {
  return { cifar10: cifar10(), cifar100: cifar100(), svhn: svhn(), 'tiny-imagenet': tinyImagenet(), mnist: idx(600), 'fashion-mnist': idx(700) };
}

export const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Server paths (/<dataset>/<file>) of the whole world. */
export function servedFiles(world: Record<Downloadable, WorldDataset>): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const [name, d] of Object.entries(world)) for (const [f, b] of Object.entries(d.files)) out[`/${name}/${f}`] = b;
  return out;
}

/** Sources for the loopback server, with the test files' own checksums. */
export function worldSources(world: Record<Downloadable, WorldDataset>, url: string): Sources {
  const out: Sources = {};
  for (const [name, d] of Object.entries(world) as [Downloadable, WorldDataset][]) {
    out[name] = {
      files: Object.entries(d.files).map(([f, b]) => ({ name: f, url: `${url}/${name}/${f}`, md5: md5(b), extract: d.extract || undefined, optional: f.startsWith('extra') || undefined })),
      expect: { train: d.train.n, test: d.test.n, ...(d.extra ? { extra: d.extra.n } : {}) },
    };
  }
  return out;
}

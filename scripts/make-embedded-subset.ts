/**
 * Makes the Fashion-MNIST subset shipped in src/data/embedded/fashion-mnist-subset from the
 * full dataset (Debian package dataset-fashion-mnist): a seeded, class-balanced pick of
 * 400 training and 100 test images per class, written as gzip IDX files.
 *
 *   node dist/scripts/make-embedded-subset.js [--from DIR] [--stats]
 *
 * --stats also prints the per-channel mean and std of the full training set (the
 * normalization constants in src/data/catalog.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, readIdx } from '../src/data/idx.js';
import { EMBEDDED_SUBSET_DIR, FASHION_MNIST_SYSTEM_DIR } from '../src/data/load.js';
import { Rng } from '../src/runtime/rng.js';

const args = process.argv.slice(2);
const from = args.includes('--from') ? args[args.indexOf('--from') + 1] : FASHION_MNIST_SYSTEM_DIR;
const PER_CLASS = { train: 400, t10k: 100 } as const;

function balancedPick(labels: Uint8Array, perClass: number, rng: Rng): number[] {
  const order = rng.permutation(labels.length);
  const counts = new Array(10).fill(0);
  const picked: number[] = [];
  for (const i of order) {
    if (counts[labels[i]] < perClass) {
      counts[labels[i]]++;
      picked.push(i);
    }
  }
  return picked.sort((a, b) => a - b);
}

const out = EMBEDDED_SUBSET_DIR();
mkdirSync(out, { recursive: true });
for (const split of ['train', 't10k'] as const) {
  const images = readIdx(join(from, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(from, `${split}-labels-idx1-ubyte.gz`));
  const picked = balancedPick(labels.data, PER_CLASS[split], new Rng(2018, `embedded-${split}`));
  const px = images.shape[1] * images.shape[2];
  const img = new Uint8Array(picked.length * px);
  const lab = new Uint8Array(picked.length);
  picked.forEach((src, i) => {
    img.set(images.data.subarray(src * px, (src + 1) * px), i * px);
    lab[i] = labels.data[src];
  });
  // mtime 0 in the gzip header keeps the output byte-identical from run to run.
  writeFileSync(join(out, `${split}-images-idx3-ubyte.gz`), gzipSync(encodeIdx([picked.length, images.shape[1], images.shape[2]], img), { level: 9 }));
  writeFileSync(join(out, `${split}-labels-idx1-ubyte.gz`), gzipSync(encodeIdx([picked.length], lab), { level: 9 }));
  console.log(`${split}: ${picked.length} images → ${out}`);
  if (split === 'train' && args.includes('--stats')) {
    let sum = 0;
    let sq = 0;
    for (const v of images.data) {
      sum += v / 255;
      sq += (v / 255) ** 2;
    }
    const n = images.data.length;
    const mean = sum / n;
    console.log(`full training set: mean ${mean.toFixed(4)}, std ${Math.sqrt(sq / n - mean * mean).toFixed(4)}`);
  }
}

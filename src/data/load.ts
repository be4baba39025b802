/**
 * Locating and reading a dataset into memory as uint8 images (NHWC) and labels. Never
 * downloads: `ensureDataset` (prepare.ts) fetches missing files first. Slow formats
 * (CIFAR archives, SVHN .mat, Tiny-ImageNet JPEGs) are decoded once into the cache
 * folder (compact.ts) and read from there afterwards.
 */
import { join } from 'node:path';
import { DataError } from '../runtime/errors.js';
import { Rng } from '../runtime/rng.js';
import { DATASETS, type DatasetInfo, type DatasetName } from './catalog.js';
import { fingerprint, readCompact, writeCompact } from './compact.js';
import type { DataEvents } from './events.js';
import {
  cacheDirOf, defaultCacheRoot, describeLayout, embeddedSubsetDir, LAYOUTS, locateDataset,
  SYSTEM_DIRS, type LocateOptions, type Located, type SplitName,
} from './registry.js';

export interface Split {
  /** N×H×W×C bytes, row-major (NHWC). */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

export interface Dataset {
  name: DatasetName;
  info: DatasetInfo;
  train: Split;
  test: Split;
  /** Where the files were read from, for run.json. */
  source: string;
}

export const FASHION_MNIST_SYSTEM_DIR = SYSTEM_DIRS['fashion-mnist']![0];
export const EMBEDDED_SUBSET_DIR = embeddedSubsetDir;

/** A seeded random pick of `limit` examples (all of them when limit is null or larger). */
export function takeSubset(split: Split, limit: number | null, rng: Rng, pixelsPerImage: number): Split {
  if (limit === null || limit >= split.n) return split;
  return pick(split, rng.permutation(split.n).subarray(0, limit).sort(), pixelsPerImage);
}

function pick(split: Split, order: ArrayLike<number>, pixelsPerImage: number): Split {
  const n = order.length;
  const images = new Uint8Array(n * pixelsPerImage);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const src = order[i];
    images.set(split.images.subarray(src * pixelsPerImage, (src + 1) * pixelsPerImage), i * pixelsPerImage);
    labels[i] = split.labels[src];
  }
  return { images, labels, n };
}

/**
 * At most `cap` examples of each class, picked at random (seeded) within the class and kept
 * in file order: the official SVHN run's per-class cap (its sampler shuffles, then takes
 * the first 7,325 of each class).
 */
export function capPerClass(split: Split, cap: number | null, classes: number, rng: Rng, pixelsPerImage: number): Split {
  if (cap === null) return split;
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  split.labels.forEach((l, i) => byClass[l].push(i));
  if (byClass.every((ix) => ix.length <= cap)) return split;
  const keep: number[] = [];
  for (const ix of byClass) {
    if (ix.length <= cap) keep.push(...ix);
    else rng.permutation(ix.length).subarray(0, cap).forEach((k) => keep.push(ix[k]));
  }
  return pick(split, keep.sort((a, b) => a - b), pixelsPerImage);
}

export interface DatasetRequest {
  name: DatasetName;
  /** Folder with the files; null = the dataset's default location. */
  dir: string | null;
  train_limit: number | null;
  test_limit: number | null;
  /** Keep at most this many training images per class; null or absent = all. */
  per_class_cap?: number | null;
  /** SVHN: add the `extra` images to the training split. */
  extra?: boolean;
}

export interface LoadOptions extends LocateOptions {
  events?: DataEvents;
  /** Decode from the original files even when a decoded copy exists (and refresh it). */
  fresh?: boolean;
}

function checkSplit(split: Split, info: DatasetInfo, where: string): Split {
  const pixels = info.shape[0] * info.shape[1] * info.shape[2];
  if (split.images.length !== split.n * pixels) {
    throw new DataError(`${where}: images are not ${info.shape.join('×')} (${split.images.length} bytes for ${split.n} images)`);
  }
  const bad = split.labels.findIndex((l) => l >= info.classes);
  if (bad >= 0) throw new DataError(`${where}: label ${split.labels[bad]} at index ${bad} is not a class in 0..${info.classes - 1}`);
  return split;
}

/** One split of a located dataset, through the decoded cache when the format is slow. */
export function readSplit(name: DatasetName, located: Located, split: SplitName, opts: LoadOptions = {}): Split {
  const info: DatasetInfo = DATASETS[name];
  const layout = LAYOUTS[name];
  const reader = layout.read[split];
  if (!reader) throw new DataError(`${name} has no ${split} split`);
  const where = `${located.tree.label} (${split})`;
  if (!layout.cache || located.where === 'embedded') return checkSplit(reader(located.tree, opts.events), info, where);
  const path = join(cacheDirOf(name, opts.cacheRoot ?? defaultCacheRoot()), 'decoded', `${split}.u8`);
  const source = `${located.tree.label} ${fingerprint(located.tree.anchors)}`;
  if (!opts.fresh) {
    const hit = readCompact(path, info.shape, source);
    if (hit) return checkSplit(hit, info, path);
  }
  const decoded = checkSplit(reader(located.tree, opts.events), info, where);
  try {
    writeCompact(path, decoded, info.shape, source);
  } catch (e) {
    opts.events?.note?.(`could not keep a decoded copy at ${path} (${(e as Error).message}); the next run decodes again`);
  }
  return decoded;
}

function concat(a: Split, b: Split): Split {
  const images = new Uint8Array(a.images.length + b.images.length);
  images.set(a.images);
  images.set(b.images, a.images.length);
  const labels = new Uint8Array(a.n + b.n);
  labels.set(a.labels);
  labels.set(b.labels, a.n);
  return { images, labels, n: a.n + b.n };
}

export function requestedSplits(req: Pick<DatasetRequest, 'extra'>): SplitName[] {
  return req.extra ? ['extra'] : [];
}

export function notFoundMessage(name: DatasetName, opts: LocateOptions = {}): string {
  const system = (opts.systemDirs ?? SYSTEM_DIRS)[name] ?? [];
  return (
    `${name}: no files found in ${cacheDirOf(name, opts.cacheRoot ?? defaultCacheRoot())}${system.length ? ` or ${system.join(', ')}` : ''}` +
    ` (expected ${describeLayout(name)}). Fetch them with: mixup-run datasets download ${name}; or point dataset.dir / --data-dir at your copy`
  );
}

export function loadDataset(req: DatasetRequest, seed: number, opts: LoadOptions = {}): Dataset {
  const info: DatasetInfo = DATASETS[req.name];
  if (req.extra && req.name !== 'svhn') throw new DataError(`dataset.extra: only SVHN has an extra split, not ${req.name}`);
  const located = locateDataset(req.name, req.dir, requestedSplits(req), opts);
  if (!located) throw new DataError(notFoundMessage(req.name, opts));
  const pixels = info.shape[0] * info.shape[1] * info.shape[2];
  let train = readSplit(req.name, located, 'train', opts);
  if (req.extra) train = concat(train, readSplit(req.name, located, 'extra', opts));
  const test = readSplit(req.name, located, 'test', opts);
  train = capPerClass(train, req.per_class_cap ?? null, info.classes, new Rng(seed, 'per-class-cap'), pixels);
  const rng = new Rng(seed, 'subset');
  return {
    name: req.name,
    info,
    train: takeSubset(train, req.train_limit, rng, pixels),
    test: takeSubset(test, req.test_limit, rng, pixels),
    source: located.tree.label,
  };
}

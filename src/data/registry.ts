/**
 * Where a dataset's files are and how each split is read from them. A dataset folder may
 * hold the official extracted layout, sit inside it, or hold only the official archive
 * (read without extracting). Lookup order when no folder is given: the cache folder
 * (downloads land there), then known system folders (Debian's Fashion-MNIST package).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';
import { packageRoot } from '../runtime/paths.js';
import type { DatasetName } from './catalog.js';
import { CIFAR100_FORMAT, CIFAR10_FORMAT, decodeCifar } from './cifar.js';
import type { DataEvents } from './events.js';
import { decodeIdx } from './idx.js';
import type { Split } from './load.js';
import { decodeSvhn } from './svhn.js';
import { decodeTinyImagenetTrain, decodeTinyImagenetVal } from './tiny-imagenet.js';
import { archiveTree, folderTree, type FileTree } from './tree.js';

export type SplitName = 'train' | 'test' | 'extra';

export interface Layout {
  /** Folder of the official layout ('' when the files sit at the top). */
  folder: string;
  /** Official archive holding `folder`, read in place when not extracted. */
  archive?: string;
  /** Files that must exist, each as alternatives (e.g. gz or plain). */
  required: string[][];
  /** Files that only the optional split needs. */
  optional?: Partial<Record<SplitName, string[]>>;
  /** Decoding is slow enough that a decoded copy is kept in the cache folder. */
  cache: boolean;
  read: Partial<Record<SplitName, (tree: FileTree, events?: DataEvents) => Split>>;
}

const readIdxSplit = (images: string, labels: string) => (tree: FileTree): Split => {
  const load = (base: string) => {
    const rel = [`${base}.gz`, base].find((f) => tree.has(f));
    if (!rel) throw new DataError(`${tree.label}: missing ${base}[.gz]`);
    let bytes = tree.read(rel);
    const where = join(tree.label, rel);
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        bytes = gunzipSync(bytes);
      } catch (e) {
        throw new DataError(`${where}: corrupt gzip data (${(e as Error).message}); delete the file and fetch it again`, { cause: e });
      }
    }
    return { ...decodeIdx(bytes, where), where };
  };
  const x = load(images);
  const y = load(labels);
  if (x.shape.length !== 3) throw new DataError(`${x.where}: expected images of shape [N, H, W], found [${x.shape.join(', ')}]`);
  if (y.shape.length !== 1 || y.shape[0] !== x.shape[0]) throw new DataError(`${y.where}: expected ${x.shape[0]} labels to match ${x.where}, found shape [${y.shape.join(', ')}]`);
  return { images: x.data, labels: y.data, n: x.shape[0] };
};

const IDX: Layout = {
  folder: '',
  required: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'].map((f) => [`${f}.gz`, f]),
  cache: false,
  read: {
    train: readIdxSplit('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
    test: readIdxSplit('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
  },
};

const cifarFiles = (tree: FileTree, names: string[]) => names.map((n) => ({ name: `${tree.label}/${n}`, bytes: tree.read(n) }));
const CIFAR10_TRAIN = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const svhnSplit = (file: string) => (tree: FileTree) => decodeSvhn(tree.read(file), `${tree.label}/${file}`);
const decodeEvents = (split: string, events?: DataEvents) => (done: number, total: number) =>
  events?.progress?.({ phase: 'decode', label: split, done, total, unit: 'images' });

export const LAYOUTS: Record<DatasetName, Layout> = {
  'fashion-mnist': IDX,
  'fashion-mnist-subset': IDX,
  mnist: IDX,
  cifar10: {
    folder: 'cifar-10-batches-bin',
    archive: 'cifar-10-binary.tar.gz',
    required: [...CIFAR10_TRAIN, 'test_batch.bin'].map((f) => [f]),
    cache: true,
    read: {
      train: (t) => decodeCifar(cifarFiles(t, CIFAR10_TRAIN), CIFAR10_FORMAT),
      test: (t) => decodeCifar(cifarFiles(t, ['test_batch.bin']), CIFAR10_FORMAT),
    },
  },
  cifar100: {
    folder: 'cifar-100-binary',
    archive: 'cifar-100-binary.tar.gz',
    required: [['train.bin'], ['test.bin']],
    cache: true,
    read: {
      train: (t) => decodeCifar(cifarFiles(t, ['train.bin']), CIFAR100_FORMAT),
      test: (t) => decodeCifar(cifarFiles(t, ['test.bin']), CIFAR100_FORMAT),
    },
  },
  svhn: {
    folder: '',
    required: [['train_32x32.mat'], ['test_32x32.mat']],
    optional: { extra: ['extra_32x32.mat'] },
    cache: true,
    read: { train: svhnSplit('train_32x32.mat'), test: svhnSplit('test_32x32.mat'), extra: svhnSplit('extra_32x32.mat') },
  },
  'tiny-imagenet': {
    folder: 'tiny-imagenet-200',
    archive: 'tiny-imagenet-200.zip',
    required: [['wnids.txt'], ['val/val_annotations.txt']],
    cache: true,
    read: {
      train: (t, ev) => decodeTinyImagenetTrain(t, decodeEvents('train', ev)),
      test: (t, ev) => decodeTinyImagenetVal(t, decodeEvents('test', ev)),
    },
  },
};

/** Known folders where a system package installs a dataset. */
export const SYSTEM_DIRS: Partial<Record<DatasetName, string[]>> = {
  'fashion-mnist': ['/usr/share/datasets/fashion-mnist'],
};

export const embeddedSubsetDir = () => join(packageRoot(), 'src', 'data', 'embedded', 'fashion-mnist-subset');

/** MIXUP_RUN_CACHE, else $XDG_CACHE_HOME/mixup-run, else ~/.cache/mixup-run. */
export function defaultCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MIXUP_RUN_CACHE) return env.MIXUP_RUN_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'mixup-run');
  return join(homedir(), '.cache', 'mixup-run');
}

export interface LocateOptions {
  cacheRoot?: string;
  /** Replaces SYSTEM_DIRS (tests). */
  systemDirs?: Partial<Record<DatasetName, string[]>>;
}

export interface Located {
  tree: FileTree;
  /** The folder that was searched and matched. */
  dir: string;
  where: 'data-dir' | 'cache' | 'system' | 'embedded';
}

/** The dataset's files in `dir` (official folder, the folder itself, or the archive), or null. */
export function openTree(name: DatasetName, dir: string, splits: SplitName[] = []): FileTree | null {
  const layout = LAYOUTS[name];
  const needed = [...layout.required, ...splits.flatMap((s) => (layout.optional?.[s] ?? []).map((f) => [f]))];
  const complete = (base: string) => needed.every((alts) => alts.some((f) => existsSync(join(base, f))));
  const anchors = (base: string) => needed.map((alts) => alts.find((f) => existsSync(join(base, f)))!);
  for (const base of layout.folder ? [join(dir, layout.folder), dir] : [dir]) {
    if (complete(base)) return folderTree(base, anchors(base));
  }
  if (layout.archive && existsSync(join(dir, layout.archive))) return archiveTree(join(dir, layout.archive), `${layout.folder}/`);
  return null;
}

/** The folder downloads of `name` go to. */
export const cacheDirOf = (name: DatasetName, cacheRoot: string) => join(cacheRoot, name);

/**
 * Finds a dataset without downloading: `dir` when given (and then only there), else the
 * cache folder, else the system folders. Null when it is nowhere.
 */
export function locateDataset(name: DatasetName, dir: string | null, splits: SplitName[] = [], opts: LocateOptions = {}): Located | null {
  if (dir !== null) {
    if (!existsSync(dir)) throw new DataError(`dataset.dir ${dir}: no such folder; fix the path or pass --data-dir`);
    const tree = openTree(name, dir, splits);
    if (!tree) throw new DataError(`${name}: ${missingIn(name, dir, splits)}${LAYOUTS[name].folder ? ` (expected ${describeLayout(name, splits)})` : ''}`);
    return { tree, dir, where: 'data-dir' };
  }
  if (name === 'fashion-mnist-subset') return { tree: folderTree(embeddedSubsetDir()), dir: embeddedSubsetDir(), where: 'embedded' };
  const cached = cacheDirOf(name, opts.cacheRoot ?? defaultCacheRoot());
  if (existsSync(cached)) {
    const tree = openTree(name, cached, splits);
    if (tree) return { tree, dir: cached, where: 'cache' };
  }
  for (const sys of (opts.systemDirs ?? SYSTEM_DIRS)[name] ?? []) {
    const tree = existsSync(sys) ? openTree(name, sys, splits) : null;
    if (tree) return { tree, dir: sys, where: 'system' };
  }
  return null;
}

const shown = (alts: string[]) => (alts.length === 2 && alts[0] === `${alts[1]}.gz` ? `${alts[1]}[.gz]` : alts.join(' or '));

/** "<folder>: missing <files>" for the candidate folder closest to complete. */
function missingIn(name: DatasetName, dir: string, splits: SplitName[]): string {
  const l = LAYOUTS[name];
  const needed = [...l.required, ...splits.flatMap((s) => (l.optional?.[s] ?? []).map((f) => [f]))];
  const bases = l.folder ? [join(dir, l.folder), dir] : [dir];
  const base = bases.find((b) => existsSync(b) && b !== dir) ?? dir;
  const missing = needed.filter((alts) => !alts.some((f) => existsSync(join(base, f))));
  return `${base}: missing ${missing.map(shown).join(', ')}`;
}

/** What a folder must contain, for error messages. */
export function describeLayout(name: DatasetName, splits: SplitName[] = []): string {
  const l = LAYOUTS[name];
  const files = [...l.required.map(shown), ...splits.flatMap((s) => l.optional?.[s] ?? [])];
  const inner = l.folder ? `${l.folder}/{${files.join(', ')}}` : files.join(', ');
  return l.archive ? `${inner} (or ${l.archive})` : inner;
}

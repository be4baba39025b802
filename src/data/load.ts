/**
 * Locating and reading a dataset into memory as uint8 images (NHWC) and labels.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../runtime/errors.js';
import { packageRoot } from '../runtime/paths.js';
import { Rng } from '../runtime/rng.js';
import { DATASETS, type DatasetInfo, type DatasetName } from './catalog.js';
import { readIdx } from './idx.js';

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

export const FASHION_MNIST_SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
export const EMBEDDED_SUBSET_DIR = () => join(packageRoot(), 'src', 'data', 'embedded', 'fashion-mnist-subset');

const IDX_FILES = {
  train: ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte'],
  test: ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'],
} as const;

function findIdx(dir: string, base: string): string | undefined {
  return [`${base}.gz`, base].map((f) => join(dir, f)).find((p) => existsSync(p));
}

function readIdxSplit(dir: string, [imagesBase, labelsBase]: readonly [string, string], info: DatasetInfo): Split {
  const imagesPath = findIdx(dir, imagesBase);
  const labelsPath = findIdx(dir, labelsBase);
  if (!imagesPath || !labelsPath) {
    throw new DataError(`${dir}: missing ${imagesPath ? '' : `${imagesBase}[.gz] `}${labelsPath ? '' : `${labelsBase}[.gz]`}`.trim());
  }
  const images = readIdx(imagesPath);
  const labels = readIdx(labelsPath);
  const [h, w] = info.shape;
  if (images.shape.length !== 3 || images.shape[1] !== h || images.shape[2] !== w) {
    throw new DataError(`${imagesPath}: expected images of shape [N, ${h}, ${w}], found [${images.shape.join(', ')}]`);
  }
  if (labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new DataError(`${labelsPath}: expected ${images.shape[0]} labels to match ${imagesPath}, found shape [${labels.shape.join(', ')}]`);
  }
  const bad = labels.data.findIndex((l) => l >= info.classes);
  if (bad >= 0) throw new DataError(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is not a class in 0..${info.classes - 1}`);
  return { images: images.data, labels: labels.data, n: images.shape[0] };
}

/** A seeded random pick of `limit` examples (all of them when limit is null or larger). */
export function takeSubset(split: Split, limit: number | null, rng: Rng, pixelsPerImage: number): Split {
  if (limit === null || limit >= split.n) return split;
  const order = rng.permutation(split.n).subarray(0, limit).sort();
  const images = new Uint8Array(limit * pixelsPerImage);
  const labels = new Uint8Array(limit);
  order.forEach((src, i) => {
    images.set(split.images.subarray(src * pixelsPerImage, (src + 1) * pixelsPerImage), i * pixelsPerImage);
    labels[i] = split.labels[src];
  });
  return { images, labels, n: limit };
}

export interface DatasetRequest {
  name: DatasetName;
  /** Folder with the files; null = the dataset's default location. */
  dir: string | null;
  train_limit: number | null;
  test_limit: number | null;
}

export function loadDataset(req: DatasetRequest, seed: number): Dataset {
  const info: DatasetInfo = DATASETS[req.name];
  let dir: string;
  if (req.dir !== null) {
    dir = req.dir;
    if (!existsSync(dir)) throw new DataError(`dataset.dir ${dir}: no such folder; fix the path or pass --data-dir`);
  } else if (req.name === 'fashion-mnist-subset') {
    dir = EMBEDDED_SUBSET_DIR();
  } else {
    dir = FASHION_MNIST_SYSTEM_DIR;
    if (!existsSync(dir)) {
      throw new DataError(
        `fashion-mnist: no files at ${dir}. Install them (apt-get install dataset-fashion-mnist), ` +
          'point dataset.dir / --data-dir at a folder holding the IDX files, or use dataset.name: fashion-mnist-subset (shipped, no download)',
      );
    }
  }
  const pixels = info.shape[0] * info.shape[1] * info.shape[2];
  const rng = new Rng(seed, 'subset');
  return {
    name: req.name,
    info,
    train: takeSubset(readIdxSplit(dir, IDX_FILES.train, info), req.train_limit, rng, pixels),
    test: takeSubset(readIdxSplit(dir, IDX_FILES.test, info), req.test_limit, rng, pixels),
    source: dir,
  };
}

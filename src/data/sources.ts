/**
 * Where each dataset's files come from and how to check them: the publishers' URLs and
 * the published checksums. Tests and mirrors substitute their own `Sources`; the
 * official table below is never weakened by them.
 */
import type { DatasetName } from './catalog.js';

export interface RemoteFile {
  /** File name on disk (and the last URL segment on a mirror). */
  name: string;
  url: string;
  /** Published MD5 of the file as served. */
  md5: string;
  /** For .gz files: MD5 of the decompressed content, which survives re-compression. */
  contentMd5?: string;
  /** Extract this archive (tar.gz or zip) into the dataset folder after checking it. */
  extract?: boolean;
  /** Only fetched when asked for (SVHN `extra`). */
  optional?: boolean;
}

export interface DatasetSource {
  files: RemoteFile[];
  /** Example counts of the official files, checked by `datasets verify`. */
  expect: { train: number; test: number; extra?: number };
}

export type Sources = Partial<Record<DatasetName, DatasetSource>>;

// CIFAR: URLs and MD5s as published on https://www.cs.toronto.edu/~kriz/cifar.html
// ("CIFAR-10 binary version (suitable for C programs)", "CIFAR-100 binary version").
// SVHN: URLs and MD5s from torchvision's datasets/svhn.py (split_list).
// MNIST: torchvision's datasets/mnist.py (mirror ossci-datasets, `resources` MD5s).
// Fashion-MNIST: URLs and gz MD5s from the table "Get the Data" in the README of
// zalandoresearch/fashion-mnist (the same MD5s as torchvision's FashionMNIST.resources).
// Its decompressed-content MD5s are those of the gunzipped published files (listed beside
// the gz MD5s by several loaders, e.g. as `raw_data`); Debian's dataset-fashion-mnist ships
// the same IDX content re-gzipped, so only the content MD5 matches there.
// Tiny-ImageNet: URL of Stanford CS231n; MD5 as used by the Avalanche library
// (benchmarks/datasets/tiny_imagenet) and other loaders; CS231n publishes no checksum.
export const OFFICIAL_SOURCES: Record<Exclude<DatasetName, 'fashion-mnist-subset'>, DatasetSource> = {
  cifar10: {
    files: [{ name: 'cifar-10-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', extract: true }],
    expect: { train: 50000, test: 10000 },
  },
  cifar100: {
    files: [{ name: 'cifar-100-binary.tar.gz', url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', extract: true }],
    expect: { train: 50000, test: 10000 },
  },
  svhn: {
    files: [
      { name: 'train_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/train_32x32.mat', md5: 'e26dedcc434d2e4c54c9b2d4a06d8373' },
      { name: 'test_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/test_32x32.mat', md5: 'eb5a983be6a315427106f1b164d9cef3' },
      { name: 'extra_32x32.mat', url: 'http://ufldl.stanford.edu/housenumbers/extra_32x32.mat', md5: 'a93ce644f1a588dc4d68dda5feec44a7', optional: true },
    ],
    expect: { train: 73257, test: 26032, extra: 531131 },
  },
  'tiny-imagenet': {
    files: [{ name: 'tiny-imagenet-200.zip', url: 'http://cs231n.stanford.edu/tiny-imagenet-200.zip', md5: '90528d7ca1a48142e341f4ef8d21d0de', extract: true }],
    expect: { train: 100000, test: 10000 },
  },
  mnist: {
    files: [
      { name: 'train-images-idx3-ubyte.gz', url: 'https://ossci-datasets.s3.amazonaws.com/mnist/train-images-idx3-ubyte.gz', md5: 'f68b3c2dcbeaaa9fbdd348bbdeb94873' },
      { name: 'train-labels-idx1-ubyte.gz', url: 'https://ossci-datasets.s3.amazonaws.com/mnist/train-labels-idx1-ubyte.gz', md5: 'd53e105ee54ea40749a09fcbcd1e9432' },
      { name: 't10k-images-idx3-ubyte.gz', url: 'https://ossci-datasets.s3.amazonaws.com/mnist/t10k-images-idx3-ubyte.gz', md5: '9fb629c4189551a2d022fa330f9573f3' },
      { name: 't10k-labels-idx1-ubyte.gz', url: 'https://ossci-datasets.s3.amazonaws.com/mnist/t10k-labels-idx1-ubyte.gz', md5: 'ec29112dd5afa0611ce80d1b7f02629c' },
    ],
    expect: { train: 60000, test: 10000 },
  },
  'fashion-mnist': {
    files: [
      { name: 'train-images-idx3-ubyte.gz', url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz', md5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', contentMd5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a' },
      { name: 'train-labels-idx1-ubyte.gz', url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-labels-idx1-ubyte.gz', md5: '25c81989df183df01b3e8a0aad5dffbe', contentMd5: '9018921c3c673c538a1fc5bad174d6f9' },
      { name: 't10k-images-idx3-ubyte.gz', url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-images-idx3-ubyte.gz', md5: 'bef4ecab320f06d8554ea6380940ec79', contentMd5: '8181f5470baa50b63fa0f6fddb340f0a' },
      { name: 't10k-labels-idx1-ubyte.gz', url: 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/t10k-labels-idx1-ubyte.gz', md5: 'bb300cfdad3c16e7a12a480ee83cd310', contentMd5: '15d484375f8d13e6eb1aabb0c3f46965' },
    ],
    expect: { train: 60000, test: 10000 },
  },
};

/**
 * The sources to use: an explicit table (tests) wins; otherwise the official one, with
 * URLs moved to `MIXUP_RUN_MIRROR` (a base URL holding the same file names) when set.
 * A mirror changes where bytes come from, never which checksums they must match.
 */
export function sourceFor(name: DatasetName, sources?: Sources, env: NodeJS.ProcessEnv = process.env): DatasetSource | undefined {
  if (sources) return sources[name];
  if (name === 'fashion-mnist-subset') return undefined;
  const official = OFFICIAL_SOURCES[name];
  const mirror = env.MIXUP_RUN_MIRROR?.trim();
  if (!mirror) return official;
  const base = mirror.endsWith('/') ? mirror : `${mirror}/`;
  return { ...official, files: official.files.map((f) => ({ ...f, url: `${base}${name}/${f.name}` })) };
}

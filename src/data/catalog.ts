/**
 * Static facts about the datasets the runner knows: shape, classes, sizes, normalization,
 * default augmentation (SPEC §3). Pure data, so the config schema can name and default them
 * and `train --dry-run` can plan without reading any file. Where the files come from is in
 * sources.ts.
 */

export interface DatasetInfo {
  /** Image height, width, channels. */
  shape: [number, number, number];
  classes: number;
  /** Examples in the full training and test splits. */
  sizes: { train: number; test: number };
  /** Training examples of each class, where the classes are not balanced (absent = equal). */
  trainPerClass?: number[];
  /** Per-channel mean and std of [0,1] pixels, used to normalize inputs. */
  mean: number[];
  std: number[];
  /** Default training augmentation. */
  augment: { crop_padding: number; flip: boolean };
  description: string;
}

// Fashion-MNIST statistics of the 60,000 training images (pixels / 255):
// mean 0.2860, std 0.3530 (computed by scripts/make-embedded-subset.ts --stats).
const FASHION: Omit<DatasetInfo, 'description' | 'sizes'> = {
  shape: [28, 28, 1],
  classes: 10,
  mean: [0.286],
  std: [0.353],
  // Clothing is left–right symmetric enough that flipping is a plausible augmentation,
  // but the benchmark convention for Fashion-MNIST is no flip.
  augment: { crop_padding: 2, flip: false },
};

// SPEC §3, from the official code (supervised/load_data.py): CIFAR statistics on 0..255
// pixels divided by 255; SVHN and Tiny-ImageNet map [0,1] to [-1,1].
const CIFAR10_MEAN = [125.3, 123.0, 113.9].map((v) => v / 255);
const CIFAR10_STD = [63.0, 62.1, 66.7].map((v) => v / 255);
const CIFAR100_MEAN = [129.3, 124.1, 112.4].map((v) => v / 255);
const CIFAR100_STD = [68.2, 65.4, 70.4].map((v) => v / 255);
const HALF = [0.5, 0.5, 0.5];

// The first two keys stay first: error messages list the names in this order.
export const DATASETS = {
  'fashion-mnist': {
    ...FASHION,
    sizes: { train: 60000, test: 10000 },
    description: 'Fashion-MNIST, 60,000 / 10,000 IDX files (Debian package dataset-fashion-mnist, or downloaded)',
  },
  'fashion-mnist-subset': {
    ...FASHION,
    sizes: { train: 4000, test: 1000 },
    description: 'balanced Fashion-MNIST subset shipped with mixup-run (4,000 / 1,000), no download',
  },
  mnist: {
    shape: [28, 28, 1],
    classes: 10,
    sizes: { train: 60000, test: 10000 },
    // The usual MNIST statistics (torchvision examples; the official code's load_mnist).
    mean: [0.1307],
    std: [0.3081],
    trainPerClass: [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949],
    augment: { crop_padding: 2, flip: false },
    description: 'MNIST handwritten digits, 60,000 / 10,000 IDX files',
  },
  cifar10: {
    shape: [32, 32, 3],
    classes: 10,
    sizes: { train: 50000, test: 10000 },
    mean: CIFAR10_MEAN,
    std: CIFAR10_STD,
    augment: { crop_padding: 2, flip: true },
    description: 'CIFAR-10, 50,000 / 10,000 (binary version, University of Toronto)',
  },
  cifar100: {
    shape: [32, 32, 3],
    classes: 100,
    sizes: { train: 50000, test: 10000 },
    mean: CIFAR100_MEAN,
    std: CIFAR100_STD,
    augment: { crop_padding: 2, flip: true },
    description: 'CIFAR-100 fine labels, 50,000 / 10,000 (binary version, University of Toronto)',
  },
  svhn: {
    shape: [32, 32, 3],
    classes: 10,
    sizes: { train: 73257, test: 26032 },
    // Digits 0–9 (the .mat files label 0 as 10): what `dataset.per_class_cap` trims.
    trainPerClass: [4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659],
    mean: HALF,
    std: HALF,
    // House numbers are not mirror-symmetric: no flip.
    augment: { crop_padding: 2, flip: false },
    description: 'SVHN cropped digits, 73,257 / 26,032 (train/test .mat, Stanford); extra 531,131 optional',
  },
  'tiny-imagenet': {
    shape: [64, 64, 3],
    classes: 200,
    sizes: { train: 100000, test: 10000 },
    mean: HALF,
    std: HALF,
    augment: { crop_padding: 4, flip: true },
    description: 'Tiny-ImageNet-200, 100,000 train / 10,000 val as test (Stanford CS231n zip)',
  },
} as const satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as [DatasetName, ...DatasetName[]];

/** Images in SVHN's optional `extra` split. */
export const SVHN_EXTRA_SIZE = 531131;
/** Per-class cap of the official SVHN run (SPEC §3). */
export const SVHN_OFFICIAL_PER_CLASS_CAP = 7325;

/**
 * Training examples left after keeping at most `cap` per class (null = all), from the catalog
 * alone, with `extra` more images of unknown classes (SVHN's extra split). With both a cap and
 * extra images the figure is an upper bound: every class is assumed to reach the cap.
 */
export function cappedTrainSize(info: DatasetInfo, cap: number | null, extra = 0): number {
  const total = info.sizes.train + extra;
  if (cap === null) return total;
  if (extra > 0) return Math.min(total, cap * info.classes);
  const counts = info.trainPerClass ?? Array.from({ length: info.classes }, () => info.sizes.train / info.classes);
  return counts.reduce((sum, n) => sum + Math.min(n, cap), 0);
}

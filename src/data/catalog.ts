/**
 * Static facts about the datasets the runner knows: shape, classes, normalization,
 * default augmentation. Pure data, so the config schema can name and default them.
 */

export interface DatasetInfo {
  /** Image height, width, channels. */
  shape: [number, number, number];
  classes: number;
  /** Examples in the full training and test splits. */
  sizes: { train: number; test: number };
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

export const DATASETS = {
  'fashion-mnist': {
    ...FASHION,
    sizes: { train: 60000, test: 10000 },
    description: 'Fashion-MNIST, 60,000 / 10,000 IDX files (Debian package dataset-fashion-mnist)',
  },
  'fashion-mnist-subset': {
    ...FASHION,
    sizes: { train: 4000, test: 1000 },
    description: 'balanced Fashion-MNIST subset shipped with mixup-run (4,000 / 1,000), no download',
  },
} as const satisfies Record<string, DatasetInfo>;

export type DatasetName = keyof typeof DATASETS;
export const DATASET_NAMES = Object.keys(DATASETS) as [DatasetName, ...DatasetName[]];

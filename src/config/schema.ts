/**
 * The experiment config: a strict zod schema (unknown keys are errors) plus the
 * cross-field rules, and `resolve`, which fills every default so that the written
 * config.yaml says exactly what ran.
 */
import * as z from 'zod';
import { DATASETS, DATASET_NAMES, type DatasetName } from '../data/catalog.js';

export const ARCHS = ['preactresnet18', 'preactresnet34', 'preactresnet50', 'preactresnet101', 'preactresnet152', 'wrn28_10', 'wrn28_2'] as const;
/** The paper's width (stem channels) of each architecture: model.width's default. */
export const PAPER_WIDTH: Record<(typeof ARCHS)[number], number> = {
  preactresnet18: 64, preactresnet34: 64, preactresnet50: 64, preactresnet101: 64, preactresnet152: 64, wrn28_10: 16, wrn28_2: 16,
};
export const MIXUP_MODES = ['none', 'input', 'manifold'] as const;
export const LOSSES = ['bce', 'ce'] as const;
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'onednn', 'wasm', 'cpu'] as const;

/** Stage boundaries where the hidden state may be mixed (SPEC §1): 0 = input … 3 = after stage 3. */
export const MAX_LAYER = 3;
/** SPEC §4: Input Mixup α = 1, Manifold Mixup α = 2 (CIFAR, SVHN). */
export const DEFAULT_ALPHA = { input: 1.0, manifold: 2.0 } as const;
export const DEFAULT_LAYERS = [0, 1, 2];

const posInt = () => z.number().int().positive();

const augmentSchema = z.strictObject({
  crop_padding: z.number().int().min(0).max(16).optional(),
  flip: z.boolean().optional(),
});

const datasetSchema = z.strictObject({
  name: z.enum(DATASET_NAMES),
  /** Folder holding the dataset files; null = the dataset's default location. */
  dir: z.string().min(1).nullable().default(null),
  /** Use only the first N training / test examples (after a seeded, class-balanced pick). */
  train_limit: posInt().nullable().default(null),
  test_limit: posInt().nullable().default(null),
  /** Keep at most N training images per class (seeded pick); the official SVHN run uses 7325. */
  per_class_cap: posInt().nullable().default(null),
  /** SVHN only: add the 531,131 `extra` images to the training split. */
  extra: z.boolean().default(false),
  augment: augmentSchema.prefault({}),
  mean: z.array(z.number()).min(1).optional(),
  std: z.array(z.number().positive()).min(1).optional(),
}).superRefine((d, ctx) => {
  if (d.extra && d.name !== 'svhn') ctx.addIssue({ code: 'custom', path: ['extra'], message: `only svhn has an extra split, not ${d.name}` });
  const channels = DATASETS[d.name].shape[2];
  for (const key of ['mean', 'std'] as const) {
    const v = d[key];
    if (v !== undefined && v.length !== channels) {
      ctx.addIssue({ code: 'custom', path: [key], message: `needs one value per channel: ${d.name} has ${channels}` });
    }
  }
});

const modelSchema = z.strictObject({
  arch: z.enum(ARCHS).default('preactresnet18'),
  /** Stem channels; absent or null = the paper width (64 for PreActResNet, 16 for WRN); smaller for CPU runs. */
  width: posInt().max(1024).nullable().optional(),
  /** He et al.'s final BN-ReLU before pooling; the official code has none. */
  final_bn: z.boolean().default(false),
}).superRefine((m, ctx) => {
  if (m.final_bn && m.arch.startsWith('wrn')) {
    ctx.addIssue({ code: 'custom', path: ['final_bn'], message: `${m.arch} always ends in its BN-ReLU head; final_bn applies to preactresnet* only` });
  }
});

const mixupSchema = z.strictObject({
  mode: z.enum(MIXUP_MODES).default('none'),
  // null / [] are what a resolved config says for mode none, so config.yaml loads again.
  alpha: z.number().nullable().optional(),
  layers: z.array(z.number().int().min(0).max(MAX_LAYER)).optional(),
  /** Draw (k, λ) for every example instead of once per batch. */
  per_example: z.boolean().default(false),
}).superRefine(({ mode, alpha, layers }, ctx) => {
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message });
  if (mode === 'none') {
    if (alpha != null) issue('alpha', "has no effect with mode 'none'; remove it or choose mode: input | manifold");
    if (layers !== undefined && layers.length > 0) issue('layers', "has no effect with mode 'none'; remove it or set mode: manifold");
    return;
  }
  if (alpha === null) issue('alpha', `must be a number > 0 for mode '${mode}'`);
  else if (alpha !== undefined && !(alpha > 0)) issue('alpha', `must be > 0 for mode '${mode}' (λ ~ Beta(α, α)), got ${alpha}`);
  if (layers === undefined) return;
  if (mode === 'input' && !(layers.length === 1 && layers[0] === 0)) {
    issue('layers', 'input mixup mixes at layer 0 only; use mode: manifold to mix at other layers');
  } else if (layers.length === 0) {
    issue('layers', `must name at least one layer in 0..${MAX_LAYER}`);
  } else if (new Set(layers).size !== layers.length) {
    issue('layers', 'lists a layer twice');
  }
});

const trainSchema = z.strictObject({
  epochs: posInt(),
  batch_size: posInt().default(100),
  loss: z.enum(LOSSES).default('bce'),
  lr: z.number().positive().default(0.1),
  momentum: z.number().min(0).lt(1).default(0.9),
  nesterov: z.boolean().default(true),
  weight_decay: z.number().min(0).default(1e-4),
  /** Epochs (counted from 0) at whose start the learning rate is multiplied by gamma. */
  milestones: z.array(z.number().int().min(0)).default([]),
  gamma: z.number().positive().default(0.1),
  /**
   * Split each batch into micro-batches of at most this size, accumulating gradients
   * (BatchNorm then normalizes each micro-batch on its own). 'auto' splits only when
   * the batch would not fit the backend's memory.
   */
  micro_batch: z.union([posInt(), z.literal('auto')]).default('auto'),
  /** Also checkpoint every N optimizer steps (besides every epoch); null = epochs only. */
  checkpoint_every: posInt().nullable().default(null),
}).superRefine((t, ctx) => {
  for (let i = 1; i < t.milestones.length; i++) {
    if (t.milestones[i] <= t.milestones[i - 1]) {
      ctx.addIssue({ code: 'custom', path: ['milestones', i], message: 'milestones must be strictly increasing' });
    }
  }
  if (t.micro_batch !== 'auto' && t.micro_batch > t.batch_size) {
    ctx.addIssue({ code: 'custom', path: ['micro_batch'], message: `must be ≤ batch_size (${t.batch_size}) or 'auto'` });
  }
});

/** ε as a number or a fraction (8/255, which YAML reads as text). */
const epsSchema = z.union([
  z.number().min(0),
  z.string().refine((s) => /^\d+(\.\d+)?\/\d+(\.\d+)?$/.test(s) && Number(s.split('/')[1]) > 0, 'expected a number ≥ 0 or a fraction like 8/255'),
]);

export const ATTACK_SPACES = ['pixel', 'normalized'] as const;

/** FGSM after a finished run (SPEC §5); the defaults are the pixel-space convention. */
const fgsmSchema = z.strictObject({
  eps: z.array(epsSchema).min(1).default(['4/255', '8/255']),
  space: z.enum(ATTACK_SPACES).default('pixel'),
  clip: z.boolean().default(true),
  loss: z.enum(LOSSES).default('ce'),
});

const evalSchema = z.strictObject({
  batch_size: posInt().default(500),
  fgsm: fgsmSchema.optional(),
});

export const configSchema = z.strictObject({
  name: z.string().min(1).optional(),
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  backend: z.enum(BACKENDS).default('auto'),
  dataset: datasetSchema,
  model: modelSchema.prefault({}),
  mixup: mixupSchema.prefault({}),
  train: trainSchema,
  eval: evalSchema.prefault({}),
});

export type ParsedConfig = z.output<typeof configSchema>;

/** A config with every default filled in: what config.yaml records. */
export interface ExperimentConfig {
  name: string;
  seed: number;
  backend: (typeof BACKENDS)[number];
  dataset: {
    name: DatasetName;
    dir: string | null;
    train_limit: number | null;
    test_limit: number | null;
    per_class_cap: number | null;
    extra: boolean;
    augment: { crop_padding: number; flip: boolean };
    mean: number[];
    std: number[];
  };
  model: { arch: (typeof ARCHS)[number]; width: number; final_bn: boolean };
  mixup: { mode: (typeof MIXUP_MODES)[number]; alpha: number | null; layers: number[]; per_example: boolean };
  train: ParsedConfig['train'];
  eval: ParsedConfig['eval'];
}

/** Fills dataset- and mode-dependent defaults. */
export function resolve(c: ParsedConfig, fallbackName: string): ExperimentConfig {
  const info = DATASETS[c.dataset.name];
  const { mode } = c.mixup;
  return {
    name: c.name ?? fallbackName,
    seed: c.seed,
    backend: c.backend,
    dataset: {
      name: c.dataset.name,
      dir: c.dataset.dir,
      train_limit: c.dataset.train_limit,
      test_limit: c.dataset.test_limit,
      per_class_cap: c.dataset.per_class_cap,
      extra: c.dataset.extra,
      augment: {
        crop_padding: c.dataset.augment.crop_padding ?? info.augment.crop_padding,
        flip: c.dataset.augment.flip ?? info.augment.flip,
      },
      mean: c.dataset.mean ?? [...info.mean],
      std: c.dataset.std ?? [...info.std],
    },
    model: { ...c.model, width: c.model.width ?? PAPER_WIDTH[c.model.arch] },
    mixup: {
      mode,
      alpha: mode === 'none' ? null : (c.mixup.alpha ?? DEFAULT_ALPHA[mode]),
      layers: mode === 'none' ? [] : mode === 'input' ? [0] : [...(c.mixup.layers ?? DEFAULT_LAYERS)].sort((a, b) => a - b),
      per_example: c.mixup.per_example,
    },
    train: c.train,
    eval: c.eval,
  };
}

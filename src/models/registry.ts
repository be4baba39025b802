/** Architectures by name: what each one is, how to build it, and how to size it without building it. */
import { Rng } from '../runtime/rng.js';
import type { Model, ModelOptions } from './model.js';
import { ParamStore, type ParamSpec } from './params.js';
import { PREACT_ARCHS, preActResNet, type PreActArch } from './preact_resnet.js';
import { WRN_ARCHS, wideResNet, type WrnArch } from './wide_resnet.js';

export type ArchName = PreActArch | WrnArch;

export interface ArchInfo {
  name: ArchName;
  /** Block type and blocks per stage. */
  block: 'basic' | 'bottleneck' | 'wide';
  depths: readonly number[];
  /** The paper's `width`: stem channels (64 for PreActResNet, 16 for WRN). */
  paperWidth: number;
  /** Where the forward can mix: 0 = the input, s = after stage s. */
  mixLayers: readonly number[];
  /** Mixing layers of the official code's Manifold Mixup (SPEC §1). */
  defaultMixLayers: readonly number[];
  /** Whether the `finalBn` option (He et al.'s BN-ReLU before pooling) exists. */
  finalBnOption: boolean;
}

const preact = (name: PreActArch): ArchInfo => ({
  name, ...PREACT_ARCHS[name], paperWidth: 64, mixLayers: [0, 1, 2, 3], defaultMixLayers: [0, 1, 2], finalBnOption: true,
});
const wrn = (name: WrnArch): ArchInfo => {
  const n = (WRN_ARCHS[name].depth - 4) / 6;
  return { name, block: 'wide', depths: [n, n, n], paperWidth: 16, mixLayers: [0, 1, 2, 3], defaultMixLayers: [0, 1, 2], finalBnOption: false };
};

export const ARCH_INFO: Record<ArchName, ArchInfo> = {
  preactresnet18: preact('preactresnet18'),
  preactresnet34: preact('preactresnet34'),
  preactresnet50: preact('preactresnet50'),
  preactresnet101: preact('preactresnet101'),
  preactresnet152: preact('preactresnet152'),
  wrn28_10: wrn('wrn28_10'),
  wrn28_2: wrn('wrn28_2'),
};

export const MODEL_NAMES = Object.keys(ARCH_INFO) as ArchName[];

function build(arch: string, opts: ModelOptions, params: ParamStore): Model {
  if (arch in PREACT_ARCHS) return preActResNet(arch as PreActArch, opts, params);
  if (arch in WRN_ARCHS) return wideResNet(arch as WrnArch, opts, params);
  throw new Error(`unknown architecture ${arch}; known: ${MODEL_NAMES.join(', ')}`);
}

/** Builds a model with PyTorch-default init drawn from the seed's 'init' stream. */
export function createModel(arch: string, opts: ModelOptions, seed: number): Model {
  return build(arch, opts, new ParamStore(new Rng(seed, 'init')));
}

/**
 * Names and PyTorch shapes of every parameter and buffer, in state_dict order, with the
 * model's mixing layers and size proxy, computed without allocating the weights.
 */
export function describeModel(arch: string, opts: ModelOptions): { specs: ParamSpec[]; params: number; mixLayers: number[]; activationsPerExample: number } {
  const store = new ParamStore(new Rng(0, 'init'), true);
  try {
    const m = build(arch, opts, store);
    return { specs: store.specs, params: store.countTrainable(), mixLayers: m.mixLayers, activationsPerExample: m.activationsPerExample };
  } finally {
    store.dispose();
  }
}

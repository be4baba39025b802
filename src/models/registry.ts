/** Architectures by name. */
import { Rng } from '../runtime/rng.js';
import type { Model, ModelOptions } from './model.js';
import { ParamStore } from './params.js';
import { PREACT_DEPTHS, preActResNet } from './preact_resnet.js';

export const MODEL_NAMES = Object.keys(PREACT_DEPTHS) as (keyof typeof PREACT_DEPTHS)[];

/** Builds a model with PyTorch-default init drawn from the seed's 'init' stream. */
export function createModel(arch: string, opts: ModelOptions, seed: number): Model {
  if (!(arch in PREACT_DEPTHS)) throw new Error(`unknown architecture ${arch}; known: ${MODEL_NAMES.join(', ')}`);
  return preActResNet(arch as keyof typeof PREACT_DEPTHS, opts, new ParamStore(new Rng(seed, 'init')));
}

/**
 * Conversion between our weights (TensorFlow.js layout: conv [kh, kw, in, out], dense
 * [in, out]) and a PyTorch state_dict of the reference network (conv [out, in, kh, kw],
 * linear [out, in]), names unchanged: they already are the PyTorch module paths.
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../runtime/errors.js';
import type { NpyArray } from './npz.js';
import type { ParamSpec } from './params.js';

/** Our layout → PyTorch's: the permutation for each rank (conv 4, dense 2; vectors stay). */
const TO_TORCH: Record<number, number[]> = { 4: [3, 2, 0, 1], 2: [1, 0] };
const FROM_TORCH: Record<number, number[]> = { 4: [2, 3, 1, 0], 2: [1, 0] };

export function toTorchLayout(t: tf.Tensor): tf.Tensor {
  const perm = TO_TORCH[t.rank];
  return perm ? tf.transpose(t, perm) : tf.clone(t);
}

export function fromTorchLayout(t: tf.Tensor): tf.Tensor {
  const perm = FROM_TORCH[t.rank];
  return perm ? tf.transpose(t, perm) : tf.clone(t);
}

const BUFFER_AFTER_VAR = 'num_batches_tracked';

/**
 * The reference state_dict, in its order, from our checkpoint tensors: every spec's tensor in
 * PyTorch layout, and after each BatchNorm's running_var its `num_batches_tracked` (the
 * number of training-mode forwards, int64), as PyTorch's BatchNorm2d keeps it. Refuses a
 * checkpoint whose names or shapes do not match the specs.
 */
export function toStateDict(specs: ParamSpec[], tensors: Map<string, tf.Tensor>, numBatchesTracked: number, source: string): [string, NpyArray][] {
  checkNames(specs, tensors, source);
  const out: [string, NpyArray][] = [];
  for (const spec of specs) {
    const t = tensors.get(spec.name)!;
    const torch = tf.tidy(() => toTorchLayout(t));
    if (torch.shape.join() !== spec.torchShape.join()) {
      torch.dispose();
      throw new DataError(`${source}: ${spec.name} has shape [${t.shape}], which is not [${spec.torchShape}] in PyTorch layout`);
    }
    out.push([spec.name, { shape: spec.torchShape, data: torch.dataSync() as Float32Array }]);
    torch.dispose();
    if (spec.name.endsWith('.running_var')) {
      const name = spec.name.replace(/running_var$/, BUFFER_AFTER_VAR);
      out.push([name, { shape: [], data: BigInt64Array.of(BigInt(numBatchesTracked)) }]);
    }
  }
  return out;
}

/**
 * Our tensors (TF.js layout) from a PyTorch state_dict's arrays, for the names in `specs`;
 * `num_batches_tracked` entries are dropped (we do not keep them). The caller disposes.
 */
export function fromStateDict(specs: ParamSpec[], arrays: Map<string, NpyArray>, source: string): Map<string, tf.Tensor> {
  const kept = new Map([...arrays].filter(([name]) => !name.endsWith(`.${BUFFER_AFTER_VAR}`)));
  checkNames(specs, kept, source);
  const out = new Map<string, tf.Tensor>();
  for (const spec of specs) {
    const a = kept.get(spec.name)!;
    if (a.shape.join() !== spec.torchShape.join()) {
      tf.dispose([...out.values()]);
      throw new DataError(`${source}: ${spec.name} has shape [${a.shape}], expected [${spec.torchShape}]`);
    }
    const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data as ArrayLike<number>);
    out.set(spec.name, tf.tidy(() => fromTorchLayout(tf.tensor(data, a.shape))));
  }
  return out;
}

function checkNames(specs: ParamSpec[], have: Map<string, unknown>, source: string): void {
  const want = new Set(specs.map((s) => s.name));
  const missing = specs.map((s) => s.name).filter((n) => !have.has(n));
  const extra = [...have.keys()].filter((n) => !want.has(n));
  if (missing.length || extra.length) {
    const sample = (xs: string[]) => xs.slice(0, 3).join(', ') + (xs.length > 3 ? `, … (${xs.length})` : '');
    throw new DataError(
      `${source}: tensors do not match the architecture` +
        (missing.length ? `; missing ${sample(missing)}` : '') +
        (extra.length ? `; unexpected ${sample(extra)}` : ''),
    );
  }
}

/**
 * Memory planning for backends with a hard heap limit. The wasm backend has a 4 GiB heap;
 * past it the single-threaded build throws "memory access out of bounds" (and the threaded
 * build deadlocks), so a batch that will not fit is split into micro-batches up front.
 */
import { UsageError } from '../runtime/errors.js';
import type { Model } from '../models/model.js';

/** Usable wasm heap for one step's tensors, leaving room for weights and fragmentation. */
export const WASM_STEP_BUDGET_BYTES = 3 * 2 ** 30;

/**
 * A step's peak heap = a fixed part that grows with the parameters (weights, gradients,
 * momentum, update temporaries, the module itself) + a part per example that grows with the
 * activations the backward pass keeps. Measured with scripts/bench-memory.ts on
 * PreActResNet18 (peak wasm heap after one step): widths 16, 32, 64 and batches 16 to 100 fit
 * 24 bytes per parameter + 60 bytes per residual-stream element; later steps add up to 12 %
 * (fragmentation, threaded build: 2.31 GiB at width 64, batch 100). The plan uses 24 + 80.
 * Other blocks keep more or less per residual element: WRN-28-10 at batch 100 (6 micro-batches
 * of at most 17, gradients accumulated) grew for three steps and then held at 2.85 GiB, 106 %
 * of its plan, over the next four; PreActResNet50 (batch 17) peaked at 77 %. The 3 GiB budget
 * keeps such a step a gigabyte below the 4 GiB heap.
 */
export const BYTES_PER_PARAMETER = 24;
export const BYTES_PER_ACTIVATION = 80;

export function stepBytes(model: Model, examples: number): number {
  return model.params.countTrainable() * BYTES_PER_PARAMETER + examples * model.activationsPerExample * BYTES_PER_ACTIVATION;
}

/**
 * The micro-batch size for a batch: the whole batch when it fits (or on backends without a
 * hard limit), else the largest even split that fits. An explicit setting is checked, not
 * overridden.
 */
export function planMicroBatch(model: Model, batch: number, setting: number | 'auto', backend: string): number {
  const limited = backend === 'wasm';
  const fits = (m: number) => !limited || stepBytes(model, m) <= WASM_STEP_BUDGET_BYTES;
  if (setting !== 'auto') {
    if (!fits(setting)) {
      throw new UsageError(
        `train.micro_batch ${setting} needs about ${(stepBytes(model, setting) / 2 ** 30).toFixed(1)} GiB per step, ` +
          `more than the wasm backend's heap allows (${WASM_STEP_BUDGET_BYTES / 2 ** 30} GiB); use 'auto' or a smaller value`,
      );
    }
    return Math.min(setting, batch);
  }
  for (let parts = 1; parts <= batch; parts++) {
    const m = Math.ceil(batch / parts);
    if (fits(m)) return m;
  }
  throw new UsageError(`one example needs more than the wasm backend's heap; reduce model.width or use a native backend`);
}

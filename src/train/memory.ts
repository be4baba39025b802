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
 * Bytes a training step holds per element of the residual stream: each block keeps its BN,
 * ReLU and conv outputs and their gradients, and the heap grows in steps. Measured with
 * scripts/bench-memory.ts on PreActResNet18 (peak wasm heap after one step): 104–140 bytes
 * at batch ≥ 16 (more at tiny batches, where fixed costs dominate); 160 leaves a margin.
 */
export const BYTES_PER_ACTIVATION = 4 * 40;

export function stepBytes(model: Model, examples: number): number {
  return examples * model.activationsPerExample * BYTES_PER_ACTIVATION;
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

/**
 * Turning uint8 images into normalized float batches: a seeded epoch order, then per
 * example a random crop with zero padding and an optional horizontal flip (torchvision's
 * RandomCrop(padding=p) and RandomHorizontalFlip), then per-channel normalization.
 */
import { Rng } from '../runtime/rng.js';
import type { Split } from './load.js';

export interface Batch {
  /** B×H×W×C floats, normalized. */
  x: Float32Array;
  /** B labels. */
  y: Int32Array;
  size: number;
}

export interface Transform {
  shape: [number, number, number];
  mean: number[];
  std: number[];
  /** Zero padding of the random crop; 0 disables cropping. */
  cropPadding: number;
  flip: boolean;
}

/**
 * Writes example `src` of `split` into `out` at `dst`, shifted by (dy, dx) as a crop of the
 * zero-padded image, mirrored when `flip`; padding pixels are 0 before normalization, as in
 * torchvision.
 */
function writeExample(split: Split, src: number, out: Float32Array, dst: number, t: Transform, dy: number, dx: number, flip: boolean) {
  const [h, w, c] = t.shape;
  const inv = t.std.map((s) => 1 / (255 * s));
  const zero = t.mean.map((m, ch) => -m / t.std[ch]);
  const base = src * h * w * c;
  let o = dst * h * w * c;
  for (let i = 0; i < h; i++) {
    const si = i + dy;
    for (let j = 0; j < w; j++) {
      // The flip acts on the cropped image (crop first, then flip, as torchvision composes them).
      const sj = (flip ? w - 1 - j : j) + dx;
      const inside = si >= 0 && si < h && sj >= 0 && sj < w;
      for (let ch = 0; ch < c; ch++, o++) {
        out[o] = inside ? split.images[base + (si * w + sj) * c + ch] * inv[ch] + zero[ch] : zero[ch];
      }
    }
  }
}

/** Builds one batch of the given examples, augmented with `rng` when given. */
export function makeBatch(split: Split, indices: ArrayLike<number>, t: Transform, rng: Rng | null): Batch {
  const [h, w, c] = t.shape;
  const size = indices.length;
  const x = new Float32Array(size * h * w * c);
  const y = new Int32Array(size);
  const p = t.cropPadding;
  for (let b = 0; b < size; b++) {
    const src = indices[b];
    // Crop offset in [-p, p]: the top-left corner of the crop inside the padded image, minus p.
    const dy = rng && p > 0 ? rng.int(2 * p + 1) - p : 0;
    const dx = rng && p > 0 ? rng.int(2 * p + 1) - p : 0;
    const flip = rng !== null && t.flip && rng.uniform() < 0.5;
    writeExample(split, src, x, b, t, dy, dx, flip);
    y[b] = split.labels[src];
  }
  return { x, y, size };
}

/** Index lists of one epoch's batches; the last may be smaller (PyTorch's drop_last=False). */
export function epochBatches(n: number, batchSize: number, rng: Rng | null): Int32Array[] {
  const order = rng ? rng.permutation(n) : Int32Array.from({ length: n }, (_, i) => i);
  const out: Int32Array[] = [];
  for (let i = 0; i < n; i += batchSize) out.push(order.subarray(i, Math.min(n, i + batchSize)));
  return out;
}

export function stepsPerEpoch(n: number, batchSize: number): number {
  return Math.ceil(n / batchSize);
}

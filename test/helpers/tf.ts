/** Shared test set-up: pick a backend quietly, seeded random arrays. */
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from '../../src/runtime/backend.js';
import { Rng } from '../../src/runtime/rng.js';

export async function useBackend(name: BackendChoice): Promise<void> {
  await selectBackend(name);
}

export function randomArray(n: number, seed: number, scale = 1): Float32Array {
  const r = new Rng(seed, 'test');
  return Float32Array.from({ length: n }, () => r.normal() * scale);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export { tf };

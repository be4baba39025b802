/**
 * CIFAR binary version (https://www.cs.toronto.edu/~kriz/cifar.html): fixed-length records,
 * CIFAR-10 = 1 label byte + 3,072 pixel bytes, CIFAR-100 = coarse label + fine label +
 * 3,072 pixel bytes; pixels are the 1,024 red, then green, then blue values of a 32×32
 * image in row-major order. Read into NHWC bytes; CIFAR-100 keeps the fine label.
 */
import { DataError } from '../runtime/errors.js';
import type { Split } from './load.js';

const PIXELS = 32 * 32;
const IMAGE = 3 * PIXELS;

export interface CifarFormat {
  /** Label bytes before the pixels (1 or 2); the last one is the class used. */
  labelBytes: number;
  classes: number;
}

export const CIFAR10_FORMAT: CifarFormat = { labelBytes: 1, classes: 10 };
export const CIFAR100_FORMAT: CifarFormat = { labelBytes: 2, classes: 100 };

/** Decodes and concatenates record files (e.g. data_batch_1..5.bin). */
export function decodeCifar(files: { name: string; bytes: Uint8Array }[], format: CifarFormat): Split {
  const record = format.labelBytes + IMAGE;
  for (const f of files) {
    if (f.bytes.length === 0 || f.bytes.length % record !== 0) {
      throw new DataError(`${f.name}: ${f.bytes.length} bytes is not a whole number of ${record}-byte CIFAR records; the file is truncated or not CIFAR binary`);
    }
  }
  const n = files.reduce((s, f) => s + f.bytes.length / record, 0);
  const images = new Uint8Array(n * IMAGE);
  const labels = new Uint8Array(n);
  let k = 0;
  for (const f of files) {
    for (let r = 0; r < f.bytes.length; r += record, k++) {
      const label = f.bytes[r + format.labelBytes - 1];
      if (label >= format.classes) throw new DataError(`${f.name}: record ${r / record} has label ${label}, not a class in 0..${format.classes - 1}`);
      labels[k] = label;
      const src = r + format.labelBytes;
      const dst = k * IMAGE;
      for (let p = 0; p < PIXELS; p++) {
        images[dst + 3 * p] = f.bytes[src + p];
        images[dst + 3 * p + 1] = f.bytes[src + PIXELS + p];
        images[dst + 3 * p + 2] = f.bytes[src + 2 * PIXELS + p];
      }
    }
  }
  return { images, labels, n };
}

/**
 * SVHN cropped digits (http://ufldl.stanford.edu/housenumbers/): MAT v5 files with X, a
 * 32×32×3×N uint8 array in MATLAB's column-major order (X(row, col, channel, n)), and y,
 * N×1 labels 1..10 where 10 stands for the digit 0. Read into NHWC bytes, labels 0..9.
 */
import { DataError } from '../runtime/errors.js';
import type { Split } from './load.js';
import { matBytes, matValues, readMat5 } from './mat5.js';

export function decodeSvhn(bytes: Uint8Array, source: string): Split {
  const vars = readMat5(bytes, source);
  const X = vars.get('X');
  const y = vars.get('y');
  if (!X || !y) throw new DataError(`${source}: expected variables X and y, found ${[...vars.keys()].join(', ') || 'none'}`);
  const [h, w, c, n] = X.dims.length === 3 ? [...X.dims, 1] : X.dims;
  if (X.dims.length > 4 || h !== 32 || w !== 32 || c !== 3) throw new DataError(`${source}: X has dimensions [${X.dims.join('×')}], expected 32×32×3×N`);
  const labelsIn = matValues(y);
  if (labelsIn.length !== n) throw new DataError(`${source}: y has ${labelsIn.length} labels for ${n} images`);
  const src = matBytes(X, source);
  const images = new Uint8Array(n * h * w * c);
  const labels = new Uint8Array(n);
  // Column-major: X(r, col, ch, i) is at r + h·(col + w·(ch + c·i)).
  for (let i = 0; i < n; i++) {
    const l = labelsIn[i];
    if (!(Number.isInteger(l) && l >= 1 && l <= 10)) throw new DataError(`${source}: label ${l} at index ${i}; SVHN labels are 1..10`);
    labels[i] = l % 10;
    for (let ch = 0; ch < c; ch++) {
      const plane = h * w * (ch + c * i);
      for (let col = 0; col < w; col++) {
        for (let r = 0; r < h; r++) images[((i * h + r) * w + col) * c + ch] = src[plane + r + h * col];
      }
    }
  }
  return { images, labels, n };
}

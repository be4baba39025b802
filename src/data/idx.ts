/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed: a big-endian
 * header (0, 0, type code, number of dimensions, then one uint32 per dimension) followed
 * by the data. Only unsigned bytes (type 0x08) occur in these datasets.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';

export interface IdxArray {
  shape: number[];
  data: Uint8Array;
}

export function decodeIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${source}: not an IDX file (bad magic number); expected MNIST-style *-idx?-ubyte[.gz]`);
  }
  if (bytes[2] !== 0x08) {
    throw new DataError(`${source}: IDX element type 0x${bytes[2].toString(16)} is not supported (only unsigned bytes, 0x08)`);
  }
  const rank = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = 4 + 4 * rank;
  if (rank < 1 || bytes.length < headerBytes) throw new DataError(`${source}: truncated IDX header`);
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = shape.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerBytes + size) {
    throw new DataError(
      `${source}: IDX header promises ${size} bytes of data for shape [${shape.join(', ')}] but the file holds ${bytes.length - headerBytes}; the file is truncated or corrupt`,
    );
  }
  return { shape, data: bytes.subarray(headerBytes) };
}

export function encodeIdx(shape: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  const view = new DataView(out.buffer);
  out[2] = 0x08;
  out[3] = shape.length;
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/** Reads an IDX file, gunzipping when the content starts with the gzip magic bytes. */
export function readIdx(path: string): IdxArray {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${path}: corrupt gzip data (${(e as Error).message}); delete the file and fetch it again`, { cause: e });
    }
  }
  return decodeIdx(bytes, path);
}

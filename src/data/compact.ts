/**
 * The decoded-dataset cache: one file per split holding a small header and the raw bytes
 * (labels, then NHWC images), so that a second run reads the data in one go instead of
 * decoding archives, MAT files or JPEGs again. The header records the identity of the
 * source files (paths, sizes, modification times); a cache whose source changed is rebuilt.
 *
 * Layout: "MXRUDATA" (8 bytes) | header length (uint32 LE) | header JSON | labels (n) | images (n·h·w·c).
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { fsyncDir } from '../runtime/files.js';
import type { Split } from './load.js';

const MAGIC = 'MXRUDATA';
const VERSION = 1;

export interface CacheHeader {
  version: number;
  n: number;
  shape: [number, number, number];
  /** Identity of the source the split was decoded from. */
  source: string;
}

/** Size and modification time of each file: changes when a file is replaced. */
export function fingerprint(files: string[]): string {
  return JSON.stringify(files.map((f) => {
    const s = statSync(f);
    return [f, s.size, Math.round(s.mtimeMs)];
  }));
}

export function writeCompact(path: string, split: Split, shape: [number, number, number], source: string): void {
  const header = Buffer.from(JSON.stringify({ version: VERSION, n: split.n, shape, source } satisfies CacheHeader), 'utf8');
  const lead = Buffer.alloc(12);
  lead.write(MAGIC, 0, 'latin1');
  lead.writeUInt32LE(header.length, 8);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    for (const part of [lead, header, split.labels, split.images]) {
      let off = 0;
      while (off < part.length) off += writeSync(fd, part, off, Math.min(part.length - off, 1 << 30));
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** The cached split, or null when absent, unreadable, of another version, shape or source. */
export function readCompact(path: string, shape: [number, number, number], source: string): Split | null {
  if (!existsSync(path)) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null;
  }
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return null;
  const len = bytes.readUInt32LE(8);
  let header: CacheHeader;
  try {
    header = JSON.parse(bytes.toString('utf8', 12, 12 + len));
  } catch {
    return null;
  }
  if (header.version !== VERSION || header.source !== source || JSON.stringify(header.shape) !== JSON.stringify(shape)) return null;
  const pixels = shape[0] * shape[1] * shape[2];
  const start = 12 + len;
  if (bytes.length !== start + header.n * (1 + pixels)) return null;
  return {
    labels: bytes.subarray(start, start + header.n),
    images: bytes.subarray(start + header.n),
    n: header.n,
  };
}

/**
 * A small reader for (uncompressed) tar archives: ustar and old-style headers, GNU long
 * names ('L') and pax extended headers ('x', path only), which is all the CIFAR tarballs
 * and common tar writers produce. Header checksums are checked so that corruption and
 * truncation are reported, not silently misread.
 */
import { DataError } from '../runtime/errors.js';

export type EntryType = 'file' | 'dir' | 'link' | 'other';

export interface TarEntry {
  name: string;
  type: EntryType;
  /** Contents (files only; empty otherwise). A view into the archive bytes. */
  data: Uint8Array;
}

const BLOCK = 512;
const ascii = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

function field(h: Uint8Array, off: number, len: number, dec: { decode(b: Uint8Array): string } = utf8): string {
  const f = h.subarray(off, off + len);
  const end = f.indexOf(0);
  return dec.decode(end < 0 ? f : f.subarray(0, end));
}

function octal(h: Uint8Array, off: number, len: number, source: string): number {
  const text = field(h, off, len, ascii).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new DataError(`${source}: corrupt tar header (numeric field "${text}")`);
  return parseInt(text, 8);
}

function checksumOk(h: Uint8Array, source: string): boolean {
  const stored = octal(h, 148, 8, source);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === stored;
}

/** pax records "LEN key=value\n"; returns the `path` value if any. */
function paxPath(data: Uint8Array): string | undefined {
  const text = utf8.decode(data);
  let path: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^\d+ path=(.*)$/.exec(line);
    if (m) path = m[1];
  }
  return path;
}

/** All entries of a tar archive held in memory. */
export function readTar(bytes: Uint8Array, source: string): TarEntry[] {
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (true) {
    if (off + BLOCK > bytes.length) {
      // Archives end with two zero blocks; running out of bytes first means truncation.
      throw new DataError(`${source}: truncated tar archive (ends inside or before a header at byte ${off}); delete it and fetch it again`);
    }
    const h = bytes.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    if (!checksumOk(h, source)) throw new DataError(`${source}: corrupt tar archive (bad header checksum at byte ${off}); delete it and fetch it again`);
    const size = octal(h, 124, 12, source);
    const flag = String.fromCharCode(h[156] || 48);
    const dataStart = off + BLOCK;
    const dataEnd = dataStart + size;
    if (dataEnd > bytes.length) {
      throw new DataError(`${source}: truncated tar archive (member needs ${size} bytes at byte ${dataStart}, only ${bytes.length - dataStart} left); delete it and fetch it again`);
    }
    const data = bytes.subarray(dataStart, dataEnd);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = field(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (flag === 'g') continue;
    let name = field(h, 0, 100);
    const magic = field(h, 257, 6, ascii);
    if (magic.startsWith('ustar')) {
      const prefix = field(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    if (longName !== undefined) {
      name = longName;
      longName = undefined;
    }
    const type: EntryType = flag === '0' || flag === '7' ? 'file' : flag === '5' ? 'dir' : flag === '1' || flag === '2' ? 'link' : 'other';
    entries.push({ name, type, data: type === 'file' ? data : new Uint8Array(0) });
  }
  return entries;
}

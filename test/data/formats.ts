/**
 * Writers of the official dataset formats, for tests: ustar tar (optionally gzipped), zip
 * (stored or deflated, optionally with ZIP64 end records), CIFAR binary records and
 * MATLAB 5 MAT-files laid out as MATLAB writes them. Written from the format
 * specifications; checked against GNU tar, Python's zipfile and scipy.io while they were
 * written (see the report), so the readers are tested against standard files.
 */
import { deflateRawSync, deflateSync } from 'node:zlib';
import { crc32 } from '../../src/data/zip.js';

export interface TarInput {
  name: string;
  data?: Uint8Array;
  /** '0' file (default), '5' folder, '2' symlink, 'L' GNU long name. */
  type?: string;
  linkname?: string;
}

function tarHeader(name: string, size: number, type: string, linkname = ''): Uint8Array {
  const h = new Uint8Array(512);
  const put = (s: string, off: number, len: number) => h.set(Buffer.from(s, 'utf8').subarray(0, len), off);
  const oct = (v: number, off: number, len: number) => put(`${v.toString(8).padStart(len - 1, '0')}\0`, off, len);
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  put(name, 0, 100);
  oct(type === '5' ? 0o755 : 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(1_600_000_000, 136, 12);
  h[156] = type.charCodeAt(0);
  put(linkname, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(prefix, 345, 155);
  h.fill(32, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

export function tar(entries: TarInput[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    parts.push(tarHeader(e.name, data.length, e.type ?? '0', e.linkname));
    parts.push(data, new Uint8Array((512 - (data.length % 512)) % 512));
  }
  parts.push(new Uint8Array(1024));
  return Buffer.concat(parts);
}

export function zip(entries: { name: string; data: Uint8Array; store?: boolean }[], opts: { zip64?: boolean } = {}): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.store ? Buffer.from(e.data) : deflateRawSync(e.data);
    const method = e.store ? 0 : 8;
    const crc = crc32(e.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(e.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(e.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  if (opts.zip64) {
    // As zip writers do past 65,535 entries: counts in a ZIP64 record, 0xFFFF in the classic one.
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(entries.length), 24);
    rec.writeBigUInt64LE(BigInt(entries.length), 32);
    rec.writeBigUInt64LE(BigInt(cd.length), 40);
    rec.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(rec, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(opts.zip64 ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, ...tail, eocd]);
}

/** Deterministic pseudo-random bytes (a 32-bit LCG), so expected values can be recomputed. */
export function bytesFrom(seed: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

export interface Images {
  /** NHWC bytes, what a reader must return. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** CIFAR records (label bytes, then the R, G, B planes) of random images; also their NHWC form. */
export function cifarRecords(n: number, labels: number[][], seed: number): { bytes: Uint8Array; expected: Images } {
  const labelBytes = labels[0].length;
  const record = labelBytes + 3072;
  const bytes = new Uint8Array(n * record);
  const images = bytesFrom(seed, n * 3072);
  for (let i = 0; i < n; i++) {
    bytes.set(labels[i], i * record);
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) bytes[i * record + labelBytes + c * 1024 + p] = images[i * 3072 + p * 3 + c];
  }
  return { bytes, expected: { images, labels: Uint8Array.from(labels.map((l) => l[labelBytes - 1])), n } };
}

// ---- MATLAB 5 MAT-files ----

const MI = { INT8: 1, UINT8: 2, INT32: 5, UINT32: 6, DOUBLE: 9, MATRIX: 14, COMPRESSED: 15 };

function element(type: number, data: Uint8Array, small = true): Buffer {
  if (small && data.length <= 4) {
    // Small data element: byte count and type share the tag's first word.
    const b = Buffer.alloc(8);
    b.writeUInt32LE(((data.length << 16) | type) >>> 0, 0);
    b.set(data, 4);
    return b;
  }
  const b = Buffer.alloc(8 + Math.ceil(data.length / 8) * 8);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(data.length, 4);
  b.set(data, 8);
  return b;
}

export interface MatVar {
  name: string;
  dims: number[];
  /** mxClass: 6 double, 9 uint8. */
  cls: number;
  /** Column-major values. */
  values: ArrayLike<number>;
  /** Element type to store them as (MATLAB stores small whole doubles as miUINT8). */
  stored: 'uint8' | 'double';
}

function matrix(v: MatVar): Buffer {
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(v.cls, 0);
  const dims = Buffer.alloc(4 * v.dims.length);
  v.dims.forEach((d, i) => dims.writeInt32LE(d, 4 * i));
  let data: Buffer;
  if (v.stored === 'uint8') data = Buffer.from(Uint8Array.from(v.values));
  else {
    data = Buffer.alloc(8 * v.values.length);
    for (let i = 0; i < v.values.length; i++) data.writeDoubleLE(v.values[i], 8 * i);
  }
  const body = Buffer.concat([
    element(MI.UINT32, flags),
    element(MI.INT32, dims, false),
    element(MI.INT8, Buffer.from(v.name, 'latin1')),
    element(v.stored === 'uint8' ? MI.UINT8 : MI.DOUBLE, data, false),
  ]);
  const tag = Buffer.alloc(8);
  tag.writeUInt32LE(MI.MATRIX, 0);
  tag.writeUInt32LE(body.length, 4);
  return Buffer.concat([tag, body]);
}

/** A little-endian MAT v5 file; compressed variables are miCOMPRESSED elements, as MATLAB -v7 saves them. */
export function mat5(vars: MatVar[], compress: boolean): Uint8Array {
  const header = Buffer.alloc(128, 0x20);
  header.write('MATLAB 5.0 MAT-file, written by mixup-run tests', 0, 'latin1');
  header.fill(0, 116, 124);
  header.writeUInt16LE(0x0100, 124);
  header.write('IM', 126, 'latin1');
  const parts: Buffer[] = [header];
  for (const v of vars) {
    const m = matrix(v);
    if (!compress) parts.push(m);
    else {
      const z = deflateSync(m);
      const tag = Buffer.alloc(8);
      tag.writeUInt32LE(MI.COMPRESSED, 0);
      tag.writeUInt32LE(z.length, 4);
      parts.push(tag, z);
    }
  }
  return Buffer.concat(parts);
}

/** SVHN's X (32×32×3×N, column-major) and y from NHWC images and digit labels 0..9 (stored as 10 for 0). */
export function svhnVars(img: Images, stored: 'uint8' | 'double' = 'uint8'): MatVar[] {
  const X = new Uint8Array(img.n * 3072);
  for (let i = 0; i < img.n; i++)
    for (let r = 0; r < 32; r++)
      for (let c = 0; c < 32; c++)
        for (let ch = 0; ch < 3; ch++) X[r + 32 * (c + 32 * (ch + 3 * i))] = img.images[((i * 32 + r) * 32 + c) * 3 + ch];
  return [
    { name: 'X', dims: [32, 32, 3, img.n], cls: 9, values: X, stored: 'uint8' },
    { name: 'y', dims: [img.n, 1], cls: 6, values: Array.from(img.labels, (l) => (l === 0 ? 10 : l)), stored },
  ];
}

/** A plain Uint8Array view (Buffers and Uint8Arrays compare equal by content through it). */
export const u8 = (x: Uint8Array) => new Uint8Array(x.buffer, x.byteOffset, x.byteLength);

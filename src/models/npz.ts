/**
 * NumPy's .npz format: a ZIP archive with one .npy file (format 1.0, C order, little-endian)
 * per array, which `numpy.load` reads as a dict of arrays. We write stored (uncompressed)
 * entries, as `numpy.savez` does; we read stored and deflated ones, with ZIP64 sizes, so
 * archives written by numpy (`savez`, `savez_compressed`) load too.
 */
import { crc32, ZipArchive } from '../data/zip.js';
import { DataError } from '../runtime/errors.js';

export { crc32 };

export type NpyData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

export interface NpyArray {
  shape: number[];
  data: NpyData;
}

const DESCR: [string, new (b: ArrayBuffer, o: number, n: number) => NpyData, number][] = [
  ['<f4', Float32Array, 4],
  ['<f8', Float64Array, 8],
  ['<i4', Int32Array, 4],
  ['<i8', BigInt64Array, 8],
  ['|u1', Uint8Array, 1],
  ['|i1', Int8Array, 1],
];

function descrOf(data: NpyData): string {
  const d = DESCR.find(([, ctor]) => data instanceof ctor);
  if (!d) throw new Error('unsupported array type');
  return d[0];
}

const MAGIC = [0x93, ...Buffer.from('NUMPY')];

/** One .npy file: magic, version 1.0, header dict padded to a multiple of 64 bytes, data. */
export function encodeNpy(a: NpyArray): Buffer {
  const n = a.shape.reduce((x, y) => x * y, 1);
  if (n !== a.data.length) throw new Error(`shape [${a.shape}] holds ${n} values, data has ${a.data.length}`);
  const shape = a.shape.length === 1 ? `(${a.shape[0]},)` : `(${a.shape.join(', ')})`;
  let header = `{'descr': '${descrOf(a.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += `${' '.repeat(pad % 64)}\n`;
  const pre = Buffer.alloc(10);
  Buffer.from(MAGIC).copy(pre);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return Buffer.concat([pre, Buffer.from(header, 'latin1'), body]);
}

export function decodeNpy(buf: Buffer, what = 'npy'): NpyArray {
  if (!MAGIC.every((b, i) => buf[i] === b)) throw new DataError(`${what}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  const d = DESCR.find(([name]) => name === descr || (name === '|u1' && descr === '<u1'));
  if (!d || fortran !== 'False' || shapeText === undefined) throw new DataError(`${what}: unsupported array (${header.trim()})`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  const [, Ctor, bytes] = d;
  // Copy into a fresh, aligned buffer.
  const raw = buf.subarray(start + headerLen, start + headerLen + n * bytes);
  if (raw.length !== n * bytes) throw new DataError(`${what}: truncated data`);
  const copy = new ArrayBuffer(n * bytes);
  new Uint8Array(copy).set(raw);
  return { shape, data: new Ctor(copy, 0, n) };
}

/** An .npz archive of `arrays`, keyed by name (numpy.load drops the `.npy` we append). */
export function encodeNpz(arrays: Iterable<[string, NpyArray]>): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  let count = 0;
  for (const [key, a] of arrays) {
    const name = Buffer.from(`${key}.npy`, 'utf8');
    const data = encodeNpy(a);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0x00210000, 10); // DOS time/date: 1980-01-01 00:00
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(0, 10);
    entry.writeUInt32LE(0x00210000, 12);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(data.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    if (offset + 30 + name.length + data.length > 0xffffffff) throw new Error('npz: archives over 4 GiB are not supported');
    locals.push(local, name, data);
    central.push(entry, name);
    offset += 30 + name.length + data.length;
    count++;
  }
  const dir = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** The arrays of an .npz archive, keyed by name without `.npy`, in archive order. */
export function decodeNpz(buf: Buffer, what = 'npz'): Map<string, NpyArray> {
  const zip = new ZipArchive(buf, what);
  const out = new Map<string, NpyArray>();
  for (const entry of zip.entries.values()) {
    if (entry.isDir) continue;
    out.set(entry.name.replace(/\.npy$/, ''), decodeNpy(Buffer.from(zip.read(entry)), `${what}:${entry.name}`));
  }
  return out;
}

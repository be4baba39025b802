/**
 * MATLAB 5 MAT-files (the "Level 5" format MATLAB writes up to -v7, and scipy.io.savemat):
 * a 128-byte header, then data elements, each a tag (type, byte count) and its data,
 * padded to 8 bytes; small elements pack up to 4 bytes into the tag; miCOMPRESSED
 * elements hold one zlib-compressed element. Only numeric, real, full matrices are
 * decoded: that is what SVHN's .mat files contain.
 */
import { inflateSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';

/** Data element types (MAT-file format, table 1-1). */
const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16 } as const;
const ELEMENT_BYTES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };
/** Array classes of numeric matrices (mxDOUBLE_CLASS = 6 … mxUINT64_CLASS = 15). */
const NUMERIC_CLASSES = new Set([6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

export interface MatArray {
  name: string;
  /** Dimensions as MATLAB reports them (column-major storage). */
  dims: number[];
  /** mxClass of the array (6 double, 9 uint8, …). */
  cls: number;
  /** Element type of the stored data (miUINT8, miDOUBLE, …); MATLAB may store doubles compactly. */
  storedType: number;
  /** The stored bytes, in file byte order. */
  raw: Uint8Array;
  littleEndian: boolean;
}

/** The values of a numeric array as plain numbers, whatever type they were stored as. */
export function matValues(a: MatArray): Float64Array {
  const size = ELEMENT_BYTES[a.storedType];
  const n = a.raw.length / size;
  const v = new DataView(a.raw.buffer, a.raw.byteOffset, a.raw.byteLength);
  const le = a.littleEndian;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (a.storedType) {
      case MI.INT8: out[i] = v.getInt8(o); break;
      case MI.UINT8: out[i] = v.getUint8(o); break;
      case MI.INT16: out[i] = v.getInt16(o, le); break;
      case MI.UINT16: out[i] = v.getUint16(o, le); break;
      case MI.INT32: out[i] = v.getInt32(o, le); break;
      case MI.UINT32: out[i] = v.getUint32(o, le); break;
      case MI.SINGLE: out[i] = v.getFloat32(o, le); break;
      case MI.DOUBLE: out[i] = v.getFloat64(o, le); break;
      case MI.INT64: out[i] = Number(v.getBigInt64(o, le)); break;
      case MI.UINT64: out[i] = Number(v.getBigUint64(o, le)); break;
    }
  }
  return out;
}

/** A uint8 array's bytes without copying; other types converted when every value is a byte. */
export function matBytes(a: MatArray, source: string): Uint8Array {
  if (a.storedType === MI.UINT8) return a.raw;
  const values = matValues(a);
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (!(x >= 0 && x <= 255 && Number.isInteger(x))) throw new DataError(`${source}: ${a.name} holds ${x}, not a byte value`);
    out[i] = x;
  }
  return out;
}

interface Tag {
  type: number;
  bytes: number;
  dataStart: number;
  /** Offset just past this element (padding included). */
  next: number;
}

class Reader {
  private readonly view: DataView;
  constructor(readonly bytes: Uint8Array, readonly le: boolean, readonly source: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(what: string): never {
    throw new DataError(`${this.source}: ${what}; the .mat file is corrupt or truncated`);
  }

  tag(off: number): Tag {
    if (off + 8 > this.bytes.length) this.fail(`element tag beyond the end at byte ${off}`);
    const first = this.view.getUint32(off, this.le);
    if (first >>> 16 !== 0) {
      // Small data element: byte count in the upper half, type in the lower; data in the next 4 bytes.
      return { type: first & 0xffff, bytes: first >>> 16, dataStart: off + 4, next: off + 8 };
    }
    const bytes = this.view.getUint32(off + 4, this.le);
    const dataStart = off + 8;
    if (dataStart + bytes > this.bytes.length) this.fail(`element of ${bytes} bytes at byte ${off} runs past the end`);
    // Compressed elements are not padded (MATLAB and scipy both write them back to back).
    const next = first === MI.COMPRESSED ? dataStart + bytes : dataStart + Math.ceil(bytes / 8) * 8;
    return { type: first, bytes, dataStart, next };
  }

  data(t: Tag): Uint8Array {
    return this.bytes.subarray(t.dataStart, t.dataStart + t.bytes);
  }

  int32s(t: Tag): number[] {
    if (t.type !== MI.INT32) this.fail(`dimensions stored as type ${t.type}, expected miINT32`);
    return Array.from({ length: t.bytes / 4 }, (_, i) => this.view.getInt32(t.dataStart + 4 * i, this.le));
  }

  /** A miMATRIX element's content, or null when it is not a numeric real matrix. */
  matrix(t: Tag): MatArray | null {
    if (t.bytes === 0) return null;
    const flagsTag = this.tag(t.dataStart);
    if (flagsTag.type !== MI.UINT32 || flagsTag.bytes !== 8) this.fail('matrix without array flags');
    const flags = this.view.getUint32(flagsTag.dataStart, this.le);
    const cls = flags & 0xff;
    const complex = (flags >> 8) & 0x08;
    const dimsTag = this.tag(flagsTag.next);
    const dims = this.int32s(dimsTag);
    const nameTag = this.tag(dimsTag.next);
    const name = new TextDecoder('latin1').decode(this.data(nameTag));
    if (!NUMERIC_CLASSES.has(cls)) return { name, dims, cls, storedType: 0, raw: new Uint8Array(0), littleEndian: this.le };
    if (complex) this.fail(`${name} is complex; expected real numbers`);
    const realTag = this.tag(nameTag.next);
    const size = ELEMENT_BYTES[realTag.type];
    if (!size) this.fail(`${name}: unsupported element type ${realTag.type}`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (realTag.bytes !== count * size) this.fail(`${name}: ${count} elements promised by dimensions [${dims.join('×')}], ${realTag.bytes / size} stored`);
    return { name, dims, cls, storedType: realTag.type, raw: this.data(realTag), littleEndian: this.le };
  }
}

/** The numeric matrices of a MAT v5 file, by variable name. */
export function readMat5(bytes: Uint8Array, source: string): Map<string, MatArray> {
  if (bytes.length < 128) throw new DataError(`${source}: too short for a MAT-file (${bytes.length} bytes)`);
  const header = new TextDecoder('latin1').decode(bytes.subarray(0, 116));
  if (/^MATLAB 7\.3/.test(header)) {
    throw new DataError(`${source}: a MATLAB 7.3 (HDF5) file; only MAT v5 files (MATLAB -v7 and earlier, scipy.io.savemat) are supported`);
  }
  const endian = String.fromCharCode(bytes[126], bytes[127]);
  if (!header.startsWith('MATLAB') || (endian !== 'IM' && endian !== 'MI')) {
    throw new DataError(`${source}: not a MATLAB 5 MAT-file (header "${header.slice(0, 20)}…")`);
  }
  // 'MI' written as a 16-bit value reads back as "IM" on a little-endian file.
  const le = endian === 'IM';
  const top = new Reader(bytes, le, source);
  const out = new Map<string, MatArray>();
  let off = 128;
  while (off < bytes.length) {
    const t = top.tag(off);
    let element: { reader: Reader; tag: Tag } = { reader: top, tag: t };
    if (t.type === MI.COMPRESSED) {
      let inner: Uint8Array | undefined;
      try {
        inner = inflateSync(top.data(t));
      } catch (e) {
        top.fail(`compressed element at byte ${off} does not inflate (${(e as Error).message})`);
      }
      const r = new Reader(inner!, le, source);
      element = { reader: r, tag: r.tag(0) };
    }
    if (element.tag.type === MI.MATRIX) {
      const m = element.reader.matrix(element.tag);
      if (m && m.storedType !== 0) out.set(m.name, m);
    }
    off = t.next;
  }
  return out;
}

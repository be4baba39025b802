/**
 * A small zip reader: the central directory (ZIP64 included: Tiny-ImageNet's zip has
 * more than 65,535 entries), stored and deflated entries, CRC-32 checked on every read.
 */
import { inflateRawSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';

export interface ZipEntry {
  name: string;
  isDir: boolean;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const utf8 = new TextDecoder('utf-8');

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3), as zip stores it. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly source: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private fail(what: string): never {
    throw new DataError(`${this.source}: ${what}; the zip is corrupt or truncated: delete it and fetch it again`);
  }

  private u16(o: number) {
    return this.view.getUint16(o, true);
  }
  private u32(o: number) {
    return this.view.getUint32(o, true);
  }
  private u64(o: number) {
    return Number(this.view.getBigUint64(o, true));
  }

  private readCentralDirectory() {
    const b = this.bytes;
    // The end-of-central-directory record sits in the last 22 + 65,535 (comment) bytes.
    let eocd = -1;
    for (let o = b.length - 22; o >= Math.max(0, b.length - 22 - 65535); o--) {
      if (this.u32(o) === SIG_EOCD) {
        eocd = o;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    const loc = eocd - 20;
    if (loc >= 0 && this.u32(loc) === SIG_EOCD64_LOCATOR) {
      const rec = this.u64(loc + 8);
      if (rec + 56 > b.length || this.u32(rec) !== SIG_EOCD64) this.fail('bad ZIP64 end record');
      count = this.u64(rec + 32);
      cdSize = this.u64(rec + 40);
      cdOffset = this.u64(rec + 48);
    }
    if (cdOffset + cdSize > b.length) this.fail('central directory beyond the end of the file');
    let o = cdOffset;
    for (let i = 0; i < count; i++) {
      if (o + 46 > b.length || this.u32(o) !== SIG_CENTRAL) this.fail(`bad central directory entry ${i}`);
      const flags = this.u16(o + 8);
      const method = this.u16(o + 10);
      const crc = this.u32(o + 16);
      let compressedSize = this.u32(o + 20);
      let size = this.u32(o + 24);
      const nameLen = this.u16(o + 28);
      const extraLen = this.u16(o + 30);
      const commentLen = this.u16(o + 32);
      let localOffset = this.u32(o + 42);
      const name = utf8.decode(b.subarray(o + 46, o + 46 + nameLen));
      // ZIP64 extra field: the 8-byte values present are those whose 32-bit field is all ones.
      let e = o + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let p = e + 4;
          if (size === 0xffffffff) (size = this.u64(p)), (p += 8);
          if (compressedSize === 0xffffffff) (compressedSize = this.u64(p)), (p += 8);
          if (localOffset === 0xffffffff) localOffset = this.u64(p);
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, isDir: name.endsWith('/'), method, flags, crc, compressedSize, size, localOffset });
      o = extraEnd + commentLen;
    }
  }

  /** The contents of one entry, decompressed and CRC-checked. */
  read(entry: ZipEntry): Uint8Array {
    const o = entry.localOffset;
    if (o + 30 > this.bytes.length || this.u32(o) !== SIG_LOCAL) this.fail(`bad local header for ${entry.name}`);
    if (entry.flags & 1) throw new DataError(`${this.source}: ${entry.name} is encrypted; not supported`);
    const start = o + 30 + this.u16(o + 26) + this.u16(o + 28);
    const end = start + entry.compressedSize;
    if (end > this.bytes.length) this.fail(`${entry.name} runs past the end of the file`);
    const raw = this.bytes.subarray(start, end);
    let data: Uint8Array;
    if (entry.method === 0) data = raw;
    else if (entry.method === 8) {
      try {
        data = inflateRawSync(raw);
      } catch (e) {
        this.fail(`${entry.name}: ${(e as Error).message}`);
      }
    } else throw new DataError(`${this.source}: ${entry.name} uses compression method ${entry.method}; only stored (0) and deflate (8) are supported`);
    if (data.length !== entry.size || crc32(data) !== entry.crc) this.fail(`${entry.name}: CRC or size mismatch`);
    return data;
  }
}

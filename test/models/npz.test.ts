/** The .npz writer and reader: round trips, the .npy header layout, ZIP details numpy relies on. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, decodeNpy, decodeNpz, encodeNpy, encodeNpz, type NpyArray } from '../../src/models/npz.js';
import { zip } from '../data/formats.js';

test('crc32 is the ZIP checksum', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('.npy: version 1.0 header padded to 64 bytes, little-endian C-order data', () => {
  const a: NpyArray = { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) };
  const buf = encodeNpy(a);
  assert.deepEqual([...buf.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const headerLen = buf.readUInt16LE(8);
  assert.equal((10 + headerLen) % 64, 0);
  const header = buf.subarray(10, 10 + headerLen).toString('latin1');
  assert.equal(header.trimEnd(), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
  assert.ok(header.endsWith('\n'));
  assert.equal(buf.readFloatLE(10 + headerLen + 5 * 4), 6.5);
  assert.equal(buf.length, 10 + headerLen + 24);
});

test('.npz round trip of every supported type, scalars and vectors included', () => {
  const arrays: [string, NpyArray][] = [
    ['conv1.weight', { shape: [2, 1, 3, 3], data: Float32Array.from({ length: 18 }, (_, i) => i / 7 - 1) }],
    ['bn.num_batches_tracked', { shape: [], data: BigInt64Array.of(123456789012n) }],
    ['vec', { shape: [3], data: Float64Array.from([0.1, -2, 3e300]) }],
    ['ids', { shape: [2, 2], data: Int32Array.from([-1, 2, 3, 2 ** 31 - 1]) }],
    ['bytes', { shape: [4], data: Uint8Array.from([0, 1, 128, 255]) }],
    ['signed', { shape: [2], data: Int8Array.from([-127, 127]) }],
    ['empty', { shape: [0], data: new Float32Array(0) }],
  ];
  const back = decodeNpz(encodeNpz(arrays));
  assert.deepEqual([...back.keys()], arrays.map(([k]) => k));
  for (const [k, a] of arrays) {
    const b = back.get(k)!;
    assert.deepEqual(b.shape, a.shape, k);
    assert.equal(b.data.constructor, a.data.constructor, k);
    assert.deepEqual([...(b.data as ArrayLike<unknown> as unknown[])], [...(a.data as ArrayLike<unknown> as unknown[])], k);
  }
});

test('a .npy shape that does not match its data is refused', () => {
  assert.throws(() => encodeNpy({ shape: [2, 2], data: new Float32Array(3) }), /holds 4 values/);
  assert.throws(() => decodeNpy(Buffer.from('not numpy at all')), /not a \.npy file/);
  assert.throws(() => decodeNpz(Buffer.from('PK but not really')), /npz: no end-of-central-directory record/);
});

test('deflated entries (numpy.savez_compressed) are read too', () => {
  const npy = encodeNpy({ shape: [4], data: Float32Array.from([1, 2, 3, 4]) });
  // The test suite's ZIP writer deflates entries unless told to store them.
  const archive = zip([{ name: 'w.npy', data: npy }]);
  assert.deepEqual([...(decodeNpz(Buffer.from(archive)).get('w')!.data as Float32Array)], [1, 2, 3, 4]);
});

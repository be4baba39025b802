import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTar } from '../../src/data/tar.js';
import { archiveTree, extractArchive, safeMemberName } from '../../src/data/tree.js';
import { crc32, ZipArchive } from '../../src/data/zip.js';
import { DataError } from '../../src/runtime/errors.js';
import { bytesFrom, tar, u8, zip } from './formats.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'arch-'));
const isDataError = (pattern: RegExp) => (e: Error) => e instanceof DataError && pattern.test(e.message) && !e.message.includes('\n');

test('CRC-32 of "123456789" is the standard check value 0xCBF43926', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
});

test('tar: files, folders, ustar prefixes and GNU long names read back byte for byte', () => {
  const long = `${'deep/'.repeat(30)}file.bin`;
  const gnuName = `${'x'.repeat(120)}.bin`;
  const a = bytesFrom(1, 1500);
  const b = bytesFrom(2, 512);
  const c = bytesFrom(3, 7);
  const bytes = tar([
    { name: 'top/', type: '5' },
    { name: 'top/a.bin', data: a },
    { name: long, data: b },
    { name: '././@LongLink', type: 'L', data: Buffer.from(`${gnuName}\0`) },
    { name: 'truncated-name', data: c },
    { name: 'top/link', type: '2', linkname: 'a.bin' },
  ]);
  const entries = readTar(bytes, 'mem.tar');
  assert.deepEqual(entries.map((e) => [e.name, e.type]), [['top/', 'dir'], ['top/a.bin', 'file'], [long, 'file'], [gnuName, 'file'], ['top/link', 'link']]);
  assert.deepEqual(u8(entries[1].data), a);
  assert.deepEqual(u8(entries[2].data), b);
  assert.deepEqual(u8(entries[3].data), c);
});

test('tar: truncation and a damaged header are one-line DataErrors', () => {
  const bytes = tar([{ name: 'a.bin', data: bytesFrom(1, 3000) }]);
  assert.throws(() => readTar(bytes.subarray(0, 2000), 'cut.tar'), isDataError(/cut\.tar: truncated tar archive/));
  assert.throws(() => readTar(bytes.subarray(0, 512 + 3072), 'noend.tar'), isDataError(/truncated/));
  const bad = Uint8Array.from(bytes);
  bad[10] ^= 0xff;
  assert.throws(() => readTar(bad, 'bad.tar'), isDataError(/bad header checksum/));
});

test('zip: stored and deflated entries, classic and ZIP64 end records', () => {
  const a = bytesFrom(4, 10_000);
  const b = Buffer.from('wnid\n'.repeat(100));
  for (const zip64 of [false, true]) {
    const z = new ZipArchive(zip([{ name: 'd/a.bin', data: a, store: true }, { name: 'd/b.txt', data: b }], { zip64 }), 'mem.zip');
    assert.deepEqual([...z.entries.keys()], ['d/a.bin', 'd/b.txt']);
    assert.deepEqual(u8(z.read(z.entries.get('d/a.bin')!)), a);
    assert.deepEqual(Buffer.from(z.read(z.entries.get('d/b.txt')!)), b);
  }
});

test('zip: a flipped byte fails the CRC; a cut file has no central directory', () => {
  const data = zip([{ name: 'a.bin', data: bytesFrom(5, 4000), store: true }]);
  const bad = Uint8Array.from(data);
  bad[30 + 5 + 100] ^= 1;
  const z = new ZipArchive(bad, 'bad.zip');
  assert.throws(() => z.read(z.entries.get('a.bin')!), isDataError(/bad\.zip: a\.bin: CRC or size mismatch/));
  assert.throws(() => new ZipArchive(data.subarray(0, data.length - 30), 'cut.zip'), isDataError(/cut\.zip: no end-of-central-directory record/));
});

test('member names that climb out or are absolute are refused', () => {
  for (const bad of ['../evil', 'a/../../evil', '/etc/passwd', 'C:/x', 'a\\..\\..\\x', '..']) {
    assert.throws(() => safeMemberName(bad, 'x.tar'), isDataError(/escapes the target folder/), bad);
  }
  assert.equal(safeMemberName('./a/b', 'x.tar'), 'a/b');
  assert.equal(safeMemberName('a/..b/c', 'x.tar'), 'a/..b/c');
});

test('extraction writes nothing at all from an archive with an escaping entry (tar.gz and zip)', () => {
  const root = tmp();
  const target = join(root, 'target');
  const evilTar = join(root, 'evil.tar.gz');
  writeFileSync(evilTar, gzipSync(tar([{ name: 'ok/a.bin', data: bytesFrom(1, 10) }, { name: '../escaped.bin', data: bytesFrom(2, 10) }])));
  const evilZip = join(root, 'evil.zip');
  writeFileSync(evilZip, zip([{ name: 'ok/a.bin', data: bytesFrom(1, 10) }, { name: '/abs.bin', data: bytesFrom(2, 10) }]));
  for (const archive of [evilTar, evilZip]) {
    assert.throws(() => extractArchive(archive, target), isDataError(/escapes the target folder/));
    assert.ok(!existsSync(join(root, 'escaped.bin')));
    assert.ok(!existsSync(join(target, 'ok')), 'nothing extracted');
    assert.throws(() => archiveTree(archive, 'ok/').list(''), isDataError(/escapes/));
  }
  assert.ok(!existsSync(target) || readdirSync(target).length === 0, 'no temporary folder left behind');
});

test('extraction of a good archive lands every file; symlinks are not created', () => {
  const root = tmp();
  const a = bytesFrom(7, 2000);
  const archive = join(root, 'good.tar.gz');
  writeFileSync(archive, gzipSync(tar([{ name: 'set/', type: '5' }, { name: 'set/a.bin', data: a }, { name: 'set/sub/b.txt', data: Buffer.from('b') }, { name: 'set/l', type: '2', linkname: '/etc/passwd' }])));
  const out = join(root, 'out');
  extractArchive(archive, out);
  assert.deepEqual(readFileSync(join(out, 'set', 'a.bin')), Buffer.from(a));
  assert.equal(readFileSync(join(out, 'set', 'sub', 'b.txt'), 'utf8'), 'b');
  assert.ok(!existsSync(join(out, 'set', 'l')));
  assert.deepEqual(readdirSync(out), ['set']);
  const tree = archiveTree(archive, 'set/');
  assert.deepEqual(tree.list(''), ['a.bin', 'sub/b.txt']);
  assert.deepEqual(u8(tree.read('a.bin')), a);
});

test('a truncated tar.gz is a one-line DataError naming the file', () => {
  const root = tmp();
  const whole = gzipSync(tar([{ name: 'set/a.bin', data: bytesFrom(8, 50_000) }]));
  const path = join(root, 'cut.tar.gz');
  writeFileSync(path, whole.subarray(0, whole.length / 2));
  assert.throws(() => archiveTree(path, 'set/').read('a.bin'), isDataError(/cut\.tar\.gz: corrupt or truncated gzip data/));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile } from '../../src/data/download.js';
import type { DataProgress } from '../../src/data/events.js';
import { DataError } from '../../src/runtime/errors.js';
import { bytesFrom } from './formats.js';
import { serve } from './server.js';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const fast = { retryDelayMs: 0, idleTimeoutMs: 5000 };
const body = bytesFrom(42, 3_000_000);

test('a download lands only after its MD5 matches; progress reaches the full size', async () => {
  const srv = await serve({ '/f.bin': body });
  try {
    const dest = join(mkdtempSync(join(tmpdir(), 'dl-')), 'sub', 'f.bin');
    const seen: DataProgress[] = [];
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), { ...fast, events: { progress: (p) => seen.push(p) } });
    assert.ok(readFileSync(dest).equals(body));
    assert.ok(!existsSync(`${dest}.partial`));
    assert.deepEqual(seen.at(-1), { phase: 'download', label: 'f.bin', done: body.length, total: body.length, unit: 'bytes' });
    // Present already: no second request.
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), fast);
    assert.equal(srv.requests.length, 1);
  } finally {
    await srv.close();
  }
});

test('wrong bytes: a one-line DataError with both checksums, and nothing left on disk', async () => {
  const srv = await serve({ '/f.bin': body });
  try {
    const dest = join(mkdtempSync(join(tmpdir(), 'dl-')), 'f.bin');
    const wrong = '0'.repeat(32);
    await assert.rejects(downloadFile(`${srv.url}/f.bin`, dest, wrong, fast), (e: Error) =>
      e instanceof DataError && !e.message.includes('\n') && e.message.includes(wrong) && e.message.includes(md5(body)) && /discarded/.test(e.message));
    assert.ok(!existsSync(dest));
    assert.ok(!existsSync(`${dest}.partial`));
  } finally {
    await srv.close();
  }
});

test('a dropped connection is resumed with a Range request and the file is whole', async () => {
  const srv = await serve({ '/f.bin': body }, { dropAfter: { '/f.bin': 1_000_000 } });
  try {
    const dest = join(mkdtempSync(join(tmpdir(), 'dl-')), 'f.bin');
    const notes: string[] = [];
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), { ...fast, events: { note: (m) => notes.push(m) } });
    assert.ok(readFileSync(dest).equals(body));
    assert.equal(srv.requests.length, 2);
    assert.equal(srv.requests[0].range, null);
    assert.match(srv.requests[1].range ?? '', /^bytes=\d+-$/);
    const resumedAt = Number(/\d+/.exec(srv.requests[1].range!)![0]);
    assert.ok(resumedAt >= 1_000_000 && resumedAt < body.length, `resumed at ${resumedAt}`);
    assert.equal(srv.requests[1].status, 206);
    assert.ok(notes.some((n) => /retrying \(2\/5\)/.test(n)) && notes.some((n) => /resuming at/.test(n)), notes.join(' | '));
  } finally {
    await srv.close();
  }
});

test('a clean restart resumes from the .partial file a failed run left', async () => {
  const srv = await serve({ '/f.bin': body }, { dropAfter: { '/f.bin': 1_200_000 } });
  try {
    const dest = join(mkdtempSync(join(tmpdir(), 'dl-')), 'f.bin');
    // First run: one attempt only, cut part-way: fails, keeps what it received.
    await assert.rejects(downloadFile(`${srv.url}/f.bin`, dest, md5(body), { ...fast, attempts: 1 }), (e: Error) =>
      e instanceof DataError && /failed after 1 attempts/.test(e.message) && /run again to resume/.test(e.message));
    assert.ok(!existsSync(dest));
    const kept = statSync(`${dest}.partial`).size;
    assert.ok(kept >= 1_200_000 && kept < body.length);
    // Second run (a new process would do the same): asks only for the rest.
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), fast);
    assert.ok(readFileSync(dest).equals(body));
    assert.equal(srv.requests.at(-1)!.range, `bytes=${kept}-`);
    assert.ok(!existsSync(`${dest}.partial`));
  } finally {
    await srv.close();
  }
});

test('a stale .partial that spoils the checksum is discarded and the file fetched again from the start', async () => {
  const srv = await serve({ '/f.bin': body });
  try {
    const dest = join(mkdtempSync(join(tmpdir(), 'dl-')), 'f.bin');
    writeFileSync(`${dest}.partial`, bytesFrom(7, 500_000));
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), fast);
    assert.ok(readFileSync(dest).equals(body));
    assert.deepEqual(srv.requests.map((r) => r.range), ['bytes=500000-', null]);
  } finally {
    await srv.close();
  }
});

test('a server that ignores Range restarts the file instead of splicing; a 404 fails at once', async () => {
  const srv = await serve({ '/f.bin': body }, { noRange: new Set(['/f.bin']) });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'dl-'));
    const dest = join(dir, 'f.bin');
    writeFileSync(`${dest}.partial`, body.subarray(0, 1000));
    await downloadFile(`${srv.url}/f.bin`, dest, md5(body), fast);
    assert.ok(readFileSync(dest).equals(body));
    await assert.rejects(downloadFile(`${srv.url}/missing.bin`, join(dir, 'm.bin'), md5(body), fast), (e: Error) =>
      e instanceof DataError && /download of m\.bin failed: HTTP 404 Not Found from http:\/\/127\.0\.0\.1:\d+\/missing\.bin/.test(e.message));
    assert.equal(srv.requests.filter((r) => r.path === '/missing.bin').length, 1);
  } finally {
    await srv.close();
  }
});

/**
 * Fetching one file safely: bytes go to `<dest>.partial`, the finished file is checked
 * against its published MD5 and only then renamed to `<dest>`. A dropped connection is
 * resumed with an HTTP Range request; so is a later run after the process was stopped,
 * since the `.partial` file stays. A file that fails its checksum is deleted, so nothing
 * corrupt is ever left where a reader would take it for good.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DataError } from '../runtime/errors.js';
import { fsyncDir } from '../runtime/files.js';
import type { DataEvents } from './events.js';

export interface DownloadOptions {
  events?: DataEvents;
  /** Connection attempts before giving up (each resumes where the last stopped). */
  attempts?: number;
  /** Wait before attempt k+1 is k × this many ms. */
  retryDelayMs?: number;
  /** Abort an attempt when no byte arrives for this long. */
  idleTimeoutMs?: number;
}

/** Hex digest of a file, reporting progress on large files. */
export async function hashFile(path: string, algorithm: 'md5' | 'sha256', events?: DataEvents): Promise<string> {
  const hash = createHash(algorithm);
  const total = statSync(path).size;
  let done = 0;
  let next = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    done += (chunk as Buffer).length;
    if (total > 1 << 26 && (done >= next || done === total)) {
      events?.progress?.({ phase: 'checksum', label: basename(path), done, total, unit: 'bytes' });
      next = done + total / 50;
    }
  }
  return hash.digest('hex');
}

class Retryable extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One HTTP request appending to the partial file from its current size. */
async function attempt(url: string, partial: string, name: string, opts: Required<Omit<DownloadOptions, 'events'>> & { events?: DataEvents }): Promise<void> {
  const start = existsSync(partial) ? statSync(partial).size : 0;
  const controller = new AbortController();
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(new Error(`no data for ${opts.idleTimeoutMs / 1000} s`)), opts.idleTimeoutMs);
  };
  arm();
  let fd: number | undefined;
  try {
    let res: Response;
    try {
      res = await fetch(url, {
        headers: { 'accept-encoding': 'identity', ...(start > 0 ? { range: `bytes=${start}-` } : {}) },
        signal: controller.signal,
      });
    } catch (e) {
      throw new Retryable(describe(e));
    }
    let offset = start;
    if (res.status === 416 && start > 0) {
      // The partial file already holds the whole file (or more): let the checksum decide.
      await res.body?.cancel();
      return;
    }
    if (res.status === 206) {
      const m = /^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== start) offset = -1;
    } else if (res.status === 200) {
      offset = 0;
    } else {
      await res.body?.cancel();
      const what = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''} from ${url}`;
      if (res.status >= 500 || res.status === 429) throw new Retryable(what);
      throw new DataError(`download of ${name} failed: ${what}`);
    }
    if (offset < 0) {
      // A range we did not ask for: start over rather than splice mismatched bytes.
      await res.body?.cancel();
      rmSync(partial, { force: true });
      throw new Retryable('server answered with a different range');
    }
    if (start > 0 && offset === start) opts.events?.note?.(`${name}: resuming at ${start.toLocaleString('en-US')} bytes`);
    const length = Number(res.headers.get('content-length') ?? NaN);
    const total = Number.isFinite(length) ? offset + length : null;
    fd = openSync(partial, offset === 0 ? 'w' : 'a');
    let done = offset;
    let reported = 0;
    opts.events?.progress?.({ phase: 'download', label: name, done, total, unit: 'bytes' });
    try {
      for await (const chunk of res.body ?? []) {
        arm();
        const bytes = chunk as Uint8Array;
        let off = 0;
        while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
        done += bytes.length;
        if (done - reported >= 1 << 18) {
          reported = done;
          opts.events?.progress?.({ phase: 'download', label: name, done, total, unit: 'bytes' });
        }
      }
    } catch (e) {
      throw new Retryable(`connection lost after ${done.toLocaleString('en-US')} bytes (${describe(e)})`);
    }
    opts.events?.progress?.({ phase: 'download', label: name, done, total, unit: 'bytes' });
    if (total !== null && done < total) throw new Retryable(`connection closed after ${done} of ${total} bytes`);
    fsyncSync(fd);
  } finally {
    clearTimeout(idle);
    if (fd !== undefined) closeSync(fd);
  }
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: Error & { code?: string } };
  const cause = err?.cause;
  return cause ? `${err.message}: ${cause.code ?? cause.message}` : String(err?.message ?? e);
}

/**
 * Downloads `url` to `dest` unless `dest` exists. Throws DataError on a checksum mismatch
 * (after one fresh retry when the bad file had been resumed) or when every attempt failed.
 */
export async function downloadFile(url: string, dest: string, md5: string, options: DownloadOptions = {}): Promise<void> {
  if (existsSync(dest)) return;
  const opts = { attempts: 5, retryDelayMs: 1000, idleTimeoutMs: 60_000, ...options };
  const name = basename(dest);
  const partial = `${dest}.partial`;
  mkdirSync(dirname(dest), { recursive: true });
  let freshRetryLeft = true;
  for (;;) {
    let resumed = false;
    let lastError = '';
    let ok = false;
    for (let k = 1; k <= opts.attempts && !ok; k++) {
      if (existsSync(partial) && statSync(partial).size > 0) resumed = true;
      try {
        await attempt(url, partial, name, opts);
        ok = true;
      } catch (e) {
        if (!(e instanceof Retryable)) throw e;
        lastError = e.message;
        if (k < opts.attempts) {
          opts.events?.note?.(`${name}: ${lastError}; retrying (${k + 1}/${opts.attempts})`);
          await sleep(k * opts.retryDelayMs);
        }
      }
    }
    if (!ok) {
      const kept = existsSync(partial) ? statSync(partial).size : 0;
      throw new DataError(
        `download of ${name} from ${url} failed after ${opts.attempts} attempts (${lastError})` +
          (kept > 0 ? `; ${kept.toLocaleString('en-US')} bytes kept in ${partial}: run again to resume` : ''),
      );
    }
    const got = await hashFile(partial, 'md5', opts.events);
    if (got === md5) break;
    const size = statSync(partial).size;
    rmSync(partial, { force: true });
    if (resumed && freshRetryLeft) {
      freshRetryLeft = false;
      opts.events?.note?.(`${name}: checksum mismatch after resuming; downloading it again from the start`);
      continue;
    }
    throw new DataError(`download of ${name} from ${url}: MD5 ${got} of the ${size.toLocaleString('en-US')} bytes received does not match the published ${md5}; the file was discarded`);
  }
  renameSync(partial, dest);
  fsyncDir(dirname(dest));
}

/**
 * Making a dataset available: find it (folder given, cache, system folders) or download
 * the official files into the cache folder, check them and extract them; and `verify`,
 * which checks files present against the published checksums and decodes every split.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';
import { DATASETS, type DatasetName } from './catalog.js';
import { downloadFile, hashFile, type DownloadOptions } from './download.js';
import type { DataEvents } from './events.js';
import { notFoundMessage, readSplit, requestedSplits, type DatasetRequest } from './load.js';
import { cacheDirOf, defaultCacheRoot, locateDataset, openTree, type LocateOptions, type Located, type SplitName } from './registry.js';
import { sourceFor, type RemoteFile, type Sources } from './sources.js';
import { extractArchive } from './tree.js';

export interface PrepareOptions extends LocateOptions {
  events?: DataEvents;
  /** Replaces the official URLs and checksums (tests, private mirrors). */
  sources?: Sources;
  download?: Omit<DownloadOptions, 'events'>;
}

type Want = Pick<DatasetRequest, 'name' | 'dir' | 'extra'>;

/**
 * The dataset's location, downloading the official files into the cache folder first when
 * it is nowhere to be found. A folder given explicitly is never replaced by a download.
 */
export async function ensureDataset(req: Want, opts: PrepareOptions = {}): Promise<Located> {
  const splits = requestedSplits(req);
  const found = locateDataset(req.name, req.dir, splits, opts);
  if (found) return found;
  const source = sourceFor(req.name, opts.sources);
  if (!source) throw new DataError(notFoundMessage(req.name, opts));
  const dir = cacheDirOf(req.name, opts.cacheRoot ?? defaultCacheRoot());
  const files = source.files.filter((f) => !f.optional || req.extra);
  for (const f of files) {
    const dest = join(dir, f.name);
    const fresh = !existsSync(dest);
    await downloadFile(f.url, dest, f.md5, { ...opts.download, events: opts.events });
    if (f.extract && (fresh || !openTree(req.name, dir, splits))) {
      extractArchive(dest, dir, (done, total) => opts.events?.progress?.({ phase: 'extract', label: f.name, done, total, unit: 'files' }));
    }
  }
  const tree = openTree(req.name, dir, splits);
  if (!tree) throw new DataError(`${req.name}: the files downloaded into ${dir} do not have the expected layout`);
  return { tree, dir, where: 'cache' };
}

export interface FileCheck {
  file: string;
  status: 'ok' | 'content-ok' | 'mismatch' | 'absent';
  detail: string;
}

export interface VerifyReport {
  located: Located;
  files: FileCheck[];
  counts: Partial<Record<SplitName, number>>;
  /** One line per problem; empty when everything checks out. */
  problems: string[];
}

const md5Of = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('hex');

async function checkFile(dir: string, f: RemoteFile, events?: DataEvents): Promise<FileCheck> {
  const path = join(dir, f.name);
  const plain = f.name.endsWith('.gz') ? join(dir, f.name.slice(0, -3)) : null;
  if (existsSync(path)) {
    const got = await hashFile(path, 'md5', events);
    if (got === f.md5) return { file: path, status: 'ok', detail: `MD5 ${got} matches the published checksum` };
    if (f.contentMd5) {
      let content: string | null = null;
      try {
        content = md5Of(gunzipSync(readFileSync(path)));
      } catch {
        // Not valid gzip: reported as a mismatch below.
      }
      if (content === f.contentMd5) {
        return { file: path, status: 'content-ok', detail: `re-compressed copy (MD5 ${got}, published ${f.md5}); decompressed MD5 ${content} matches the published files' content` };
      }
    }
    return { file: path, status: 'mismatch', detail: `MD5 ${got} does not match the published ${f.md5}: the file is corrupt, truncated or not the official one` };
  }
  if (plain && f.contentMd5 && existsSync(plain)) {
    const got = await hashFile(plain, 'md5', events);
    return got === f.contentMd5
      ? { file: plain, status: 'content-ok', detail: `MD5 ${got} matches the published files' decompressed content` }
      : { file: plain, status: 'mismatch', detail: `MD5 ${got} does not match the decompressed content of the published ${f.name} (${f.contentMd5})` };
  }
  return { file: path, status: 'absent', detail: 'not present (the files found are checked by decoding them)' };
}

/** Checks a dataset where it is found: published checksums of the files present, then every split decoded and counted. */
export async function verifyDataset(req: Want, opts: PrepareOptions = {}): Promise<VerifyReport> {
  const splits = requestedSplits(req);
  const located = locateDataset(req.name, req.dir, splits, opts);
  if (!located) throw new DataError(notFoundMessage(req.name, opts));
  const source = sourceFor(req.name, opts.sources);
  const files: FileCheck[] = [];
  const problems: string[] = [];
  for (const f of source?.files ?? []) {
    if (f.optional && !req.extra && !existsSync(join(located.dir, f.name))) continue;
    const check = await checkFile(located.dir, f, opts.events);
    files.push(check);
    if (check.status === 'mismatch') problems.push(`${check.file}: ${check.detail}; delete it and run: mixup-run datasets download ${req.name}`);
  }
  const counts: Partial<Record<SplitName, number>> = {};
  if (problems.length === 0) {
    for (const split of ['train', 'test', ...splits] as SplitName[]) {
      const n = readSplit(req.name, located, split, { ...opts, fresh: true }).n;
      counts[split] = n;
      const expected = located.where === 'embedded' ? DATASETS[req.name].sizes[split as 'train' | 'test'] : source?.expect[split];
      if (expected !== undefined && n !== expected) problems.push(`${located.tree.label}: the ${split} split has ${n} images, the official files ${expected}`);
    }
  }
  return { located, files, counts, problems };
}

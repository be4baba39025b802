/**
 * A dataset's files as a tree of relative paths, whether they sit in a folder or inside
 * an archive (tar.gz or zip), so that each reader is written once. Also the only place
 * that writes archive members to disk, refusing any member that would land outside the
 * target folder.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../runtime/errors.js';
import { fsyncDir } from '../runtime/files.js';
import { readTar } from './tar.js';
import { ZipArchive } from './zip.js';

export interface FileTree {
  /** Where the files are, for messages and run.json. */
  readonly label: string;
  /** Files on disk whose size and mtime identify the tree's content (cache validity). */
  readonly anchors: string[];
  has(rel: string): boolean;
  read(rel: string): Uint8Array;
  /** Files below `prefix` (a folder path ending in '/', or '' for all), sorted. */
  list(prefix: string): string[];
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

export function folderTree(dir: string, anchors: string[] = []): FileTree {
  const walk = (rel: string, out: string[]) => {
    const abs = join(dir, rel);
    if (!existsSync(abs)) return;
    for (const d of readdirSync(abs, { withFileTypes: true })) {
      const r = `${rel}${d.name}`;
      if (d.isDirectory()) walk(`${r}/`, out);
      else if (d.isFile()) out.push(r);
    }
  };
  return {
    label: dir,
    anchors: anchors.map((a) => join(dir, a)),
    has: (rel) => existsSync(join(dir, rel)) && statSync(join(dir, rel)).isFile(),
    read: (rel) => readBytes(join(dir, rel)),
    list: (prefix) => {
      const out: string[] = [];
      walk(prefix, out);
      return out.sort();
    },
  };
}

/**
 * Refuses member names that are absolute or climb out with '..' (also in Windows form);
 * returns the name without a leading './'.
 */
export function safeMemberName(name: string, source: string): string {
  const clean = name.replace(/^(\.\/)+/, '');
  const parts = clean.split(/[\\/]/);
  if (name.includes('\0') || isAbsolute(clean) || /^[A-Za-z]:/.test(clean) || clean.startsWith('\\') || parts.includes('..')) {
    throw new DataError(`${source}: archive entry "${name}" escapes the target folder; refusing to use this archive`);
  }
  return clean;
}

/** File members of an archive, by safe relative name. Links and devices are ignored. */
function archiveMembers(path: string): Map<string, () => Uint8Array> {
  const bytes = readBytes(path);
  const members = new Map<string, () => Uint8Array>();
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) {
    const zip = new ZipArchive(bytes, path);
    for (const e of zip.entries.values()) {
      const name = safeMemberName(e.name, path);
      if (!e.isDir) members.set(name, () => zip.read(e));
    }
    return members;
  }
  let tar: Uint8Array = bytes;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      tar = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${path}: corrupt or truncated gzip data (${(e as Error).message}); delete it and fetch it again`, { cause: e });
    }
  }
  for (const e of readTar(tar, path)) {
    const name = safeMemberName(e.name, path);
    if (e.type === 'file') members.set(name, () => e.data);
  }
  return members;
}

/**
 * The files of an archive below `root` (e.g. 'cifar-10-batches-bin/'), read in memory. The
 * archive is opened on first use, so locating a dataset never decompresses anything.
 */
export function archiveTree(path: string, root: string): FileTree {
  let members: Map<string, () => Uint8Array> | undefined;
  const open = () => {
    if (!members) {
      members = new Map();
      for (const [name, get] of archiveMembers(path)) if (name.startsWith(root)) members.set(name.slice(root.length), get);
    }
    return members;
  };
  return {
    label: `${path}:${root}`,
    anchors: [path],
    has: (rel) => open().has(rel),
    read: (rel) => {
      const get = open().get(rel);
      if (!get) throw new DataError(`${path}: no member ${root}${rel}; not the official archive`);
      return get();
    },
    list: (prefix) => [...open().keys()].filter((n) => n.startsWith(prefix)).sort(),
  };
}

/**
 * Extracts every file of an archive into `target`: first into a temporary folder beside
 * it, then each top-level item is moved into place, so an interrupted extraction never
 * leaves a half-written dataset where a reader would take it for a whole one.
 */
export function extractArchive(path: string, target: string, onEntry?: (done: number, total: number) => void): string[] {
  const members = archiveMembers(path);
  const base = resolve(target);
  mkdirSync(base, { recursive: true });
  const tmp = join(base, `.extract-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  let done = 0;
  try {
    for (const [name, get] of members) {
      const dest = resolve(tmp, name);
      // Belt and braces: the resolved path must stay inside the temporary folder.
      const rel = relative(tmp, dest);
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) throw new DataError(`${path}: archive entry "${name}" escapes the target folder; refusing to use this archive`);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, get());
      onEntry?.(++done, members.size);
    }
    const top = readdirSync(tmp);
    for (const item of top) {
      rmSync(join(base, item), { recursive: true, force: true });
      renameSync(join(tmp, item), join(base, item));
    }
    fsyncDir(base);
    return top.map((t) => `${base}${sep}${t}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

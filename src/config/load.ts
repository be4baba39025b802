/**
 * Loading a config: read the YAML file, apply `--set key.path=value` overrides, validate
 * with the strict schema, and report every problem at once with file:line:col.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { createHash } from 'node:crypto';
import * as YAML from 'yaml';
import type * as z from 'zod';
import { ConfigError, type ConfigIssue } from '../runtime/errors.js';
import { configSchema, resolve, type ExperimentConfig } from './schema.js';

type Key = string | number;

/** One `--set` override, parsed. */
export interface Override {
  path: Key[];
  value: unknown;
  /** The flag as the user typed it, for messages. */
  text: string;
}

/** Parses `a.b[2].c=value`; the value is read as YAML (`0.1`, `true`, `[0, 1]`, `null`, text). */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  const keyText = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || !/^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*|\[\d+\])*$/.test(keyText)) {
    throw new ConfigError('--set', [
      { path: text, message: "expected key.path=value, e.g. --set train.lr=0.05 or --set mixup.layers=[0,1]" },
    ]);
  }
  const path: Key[] = [];
  for (const m of keyText.matchAll(/([A-Za-z_][\w-]*)|\[(\d+)\]/g)) {
    path.push(m[1] !== undefined ? m[1] : Number(m[2]));
  }
  let value: unknown;
  try {
    value = YAML.parse(text.slice(eq + 1));
  } catch (e) {
    throw new ConfigError('--set', [{ path: keyText, message: `value is not valid YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  return { path, value: value ?? null, text };
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

function setIn(obj: Record<string, unknown>, path: Key[], value: unknown): void {
  let cur: Record<Key, unknown> = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]];
    if (next === null || typeof next !== 'object') cur[path[i]] = typeof path[i + 1] === 'number' ? [] : {};
    cur = cur[path[i]] as Record<Key, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

const startsWith = (a: readonly PropertyKey[], b: readonly PropertyKey[]) => b.every((k, i) => a[i] === k);

/** Where in the YAML a key path lives: the key itself when it exists, else the nearest existing parent. */
function locate(doc: YAML.Document, lc: YAML.LineCounter, path: readonly PropertyKey[], key?: string) {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as Key[], true) as YAML.Node | undefined;
    if (!node) continue;
    let range = node.range;
    if (YAML.isMap(node) && (key !== undefined || n < path.length)) {
      const want = n < path.length ? path[n] : key;
      const pair = node.items.find((p) => YAML.isScalar(p.key) && p.key.value === want);
      if (pair && YAML.isScalar(pair.key) && pair.key.range) range = pair.key.range;
    }
    if (range) return lc.linePos(range[0]);
  }
  return undefined;
}

function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_type':
      return issue.message.includes('received undefined')
        ? `is required (${issue.expected})`
        : `must be ${issue.expected === 'int' ? 'an integer' : `a ${issue.expected}`}, got ${issue.message.split('received ')[1] ?? 'something else'}`;
    case 'too_small':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `needs at least ${issue.minimum} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`
        : `must be ${issue.inclusive ? '≥' : '>'} ${issue.minimum}`;
    case 'too_big':
      return issue.origin === 'array' || issue.origin === 'string'
        ? `allows at most ${issue.maximum} ${issue.origin === 'array' ? 'item(s)' : 'character(s)'}`
        : `must be ${issue.inclusive ? '≤' : '<'} ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/** Turns zod issues into located ConfigIssues (one per unknown key). */
function toIssues(
  error: z.ZodError,
  doc: YAML.Document | null,
  lc: YAML.LineCounter,
  overrides: Override[],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of error.issues) {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    for (const key of keys) {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const message = key === undefined ? describe(issue) : `unknown key (allowed here: ${allowedKeys(issue.path).join(', ')})`;
      const over = overrides.find((o) => startsWith(path, o.path) || startsWith(o.path, path));
      if (over && (startsWith(path, over.path) || key === undefined)) {
        out.push({ path: formatPath(path), message: `${message} (from --set ${over.text})` });
        continue;
      }
      const pos = doc ? locate(doc, lc, issue.path, key) : undefined;
      out.push({ path: formatPath(path), line: pos?.line, col: pos?.col, message });
    }
  }
  return out;
}

type Def = { innerType?: Schema; in?: Schema; shape?: Record<string, Schema> };
type Schema = { _zod: { def: Def } };

/** Looks through optional/default/nullable wrappers to the object schema beneath, if any. */
function unwrap(s: Schema): Def {
  let def = s._zod.def;
  while (def.innerType || def.in) def = (def.innerType ?? def.in)!._zod.def;
  return def;
}

/** The keys the schema allows in the object at `path`, for "unknown key" messages. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  let def = unwrap(configSchema as unknown as Schema);
  for (const k of path) {
    const next = def.shape?.[String(k)];
    if (!next) return [];
    def = unwrap(next);
  }
  return Object.keys(def.shape ?? {});
}

export interface LoadedConfig {
  config: ExperimentConfig;
  /** sha256 of the resolved config, excluding nothing: two runs with equal hashes ran the same experiment. */
  hash: string;
  file: string;
}

/** Reads, overrides, validates and resolves a config; throws ConfigError listing every problem. */
export function loadConfig(file: string, overrides: Override[] = []): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a YAML file' : `cannot be read (${code})`;
    throw new ConfigError(file, [{ path: '', message: `${why}; pass --config path/to/experiment.yaml (see configs/)` }]);
  }
  return parseConfig(text, file, overrides);
}

export function parseConfig(text: string, file: string, overrides: Override[] = []): LoadedConfig {
  const lc = new YAML.LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lc.linePos(e.pos[0]);
        return { path: '', line: pos.line, col: pos.col, message: `YAML syntax: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    // Unresolved or runaway aliases surface only when the document is converted.
    throw new ConfigError(file, [{ path: '', message: `YAML: ${(e as Error).message.split('\n')[0]}` }]);
  }
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(file, [{ path: '', line: 1, col: 1, message: 'the config must be a mapping of keys (dataset:, model:, mixup:, train:, …)' }]);
  }
  for (const o of overrides) setIn(raw as Record<string, unknown>, o.path, o.value);
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(file, toIssues(parsed.error, doc, lc, overrides));
  const config = resolve(parsed.data, basename(file, extname(file)));
  return { config, hash: configHash(config), file };
}

/** Stable hash of a resolved config (keys sorted), so reordering a file does not change it. */
export function configHash(config: ExperimentConfig): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon((v as Record<string, unknown>)[k])]))
        : v;
  return createHash('sha256').update(JSON.stringify(canon(config))).digest('hex');
}

/** The resolved config as YAML, for config.yaml and --dry-run. */
export function configToYaml(config: ExperimentConfig): string {
  return YAML.stringify(config, { lineWidth: 0 });
}

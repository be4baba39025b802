/**
 * Checkpoints in TensorFlow.js's weights-manifest format (model.json + weights.bin), the
 * weights named after the reference PyTorch module paths; conv kernels are stored in
 * TensorFlow.js layout [kh, kw, in, out] and dense weights as [in, out]. Optimizer state
 * (momentum buffers) goes in optimizer.json + optimizer.bin, loop state in state.json.
 * A checkpoint is written into a fresh folder and swapped in by rename, so a crash leaves
 * the previous checkpoint intact.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DataError } from '../runtime/errors.js';
import { fsyncDir, writeFileAtomic, writeJsonAtomic } from '../runtime/files.js';

interface Manifest {
  format: 'mixup-run-weights';
  generatedBy: string;
  convertedBy: null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  /** Free-form facts about the weights, e.g. the architecture. */
  userDefinedMetadata?: Record<string, unknown>;
}

async function writeTensors(dir: string, stem: string, tensors: Map<string, tf.Tensor>, meta: Record<string, unknown>) {
  const named = [...tensors].map(([name, tensor]) => ({ name, tensor }));
  const { data, specs } = await tf.io.encodeWeights(named);
  writeFileAtomic(join(dir, `${stem}.bin`), new Uint8Array(data));
  const manifest: Manifest = {
    format: 'mixup-run-weights',
    generatedBy: `TensorFlow.js ${tf.version_core}`,
    convertedBy: null,
    weightsManifest: [{ paths: [`${stem}.bin`], weights: specs }],
    userDefinedMetadata: meta,
  };
  writeJsonAtomic(join(dir, stem === 'weights' ? 'model.json' : `${stem}.json`), manifest);
}

/** Reads tensors written by writeTensors; the caller owns (and disposes) them. */
export function readTensors(dir: string, manifestFile: string): { tensors: Map<string, tf.Tensor>; meta: Record<string, unknown> } {
  const path = join(dir, manifestFile);
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest;
  } catch (e) {
    throw new DataError(`${path}: not a readable checkpoint manifest (${(e as Error).message})`, { cause: e });
  }
  const group = manifest.weightsManifest?.[0];
  if (!group) throw new DataError(`${path}: no weightsManifest`);
  const bin = readFileSync(join(dir, group.paths[0]));
  const buffer = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
  const decoded = tf.io.decodeWeights(buffer, group.weights);
  return { tensors: new Map(Object.entries(decoded)), meta: manifest.userDefinedMetadata ?? {} };
}

export interface CheckpointContent {
  weights: Map<string, tf.Tensor>;
  optimizer: Map<string, tf.Tensor>;
  state: unknown;
  meta: Record<string, unknown>;
}

/**
 * Fault injection for the crash-safety tests: MIXUP_RUN_FAULT=<point>:<n> kills the process
 * (SIGKILL, as a power cut would) the n-th time it reaches <point>.
 */
const faultCounts = new Map<string, number>();
function faultPoint(point: string): void {
  const spec = process.env.MIXUP_RUN_FAULT;
  if (!spec) return;
  const [want, nth] = spec.split(':');
  if (want !== point) return;
  const seen = (faultCounts.get(point) ?? 0) + 1;
  faultCounts.set(point, seen);
  if (seen === Number(nth ?? 1)) process.kill(process.pid, 'SIGKILL');
}

/**
 * Writes a complete checkpoint folder at `dir`, replacing any previous one only once it is
 * whole. `state.json` is written last, so a folder with it is complete. `optimizer` and
 * `state` may be omitted for a weights-only copy (the best checkpoint).
 */
export async function saveCheckpoint(dir: string, c: Pick<CheckpointContent, 'weights' | 'meta'> & Partial<CheckpointContent>): Promise<void> {
  const parent = dirname(dir);
  const tmp = join(parent, `.${basename(dir)}.${process.pid}.tmp`);
  const old = join(parent, `.${basename(dir)}.${process.pid}.old`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  await writeTensors(tmp, 'weights', c.weights, c.meta);
  faultPoint('checkpoint-weights');
  if (c.optimizer) await writeTensors(tmp, 'optimizer', c.optimizer, {});
  writeJsonAtomic(join(tmp, 'state.json'), c.state ?? {});
  faultPoint('checkpoint-written');
  // Swap: the old checkpoint stays until the new one is in place.
  if (existsSync(dir)) renameSync(dir, old);
  faultPoint('checkpoint-swap');
  renameSync(tmp, dir);
  fsyncDir(parent);
  rmSync(old, { recursive: true, force: true });
}

/**
 * The checkpoint folder to resume from: `dir` itself, or, after a crash in the middle of a
 * swap, the newest complete temporary or previous copy beside it; null when there is none.
 */
export function findCheckpoint(dir: string): string | null {
  const complete = (d: string) => existsSync(join(d, 'state.json')) && existsSync(join(d, 'model.json'));
  if (complete(dir)) return dir;
  const parent = dirname(dir);
  if (!existsSync(parent)) return null;
  const prefix = `.${basename(dir)}.`;
  // A complete .tmp is newer than any .old (it was written after the swap began).
  const leftovers = readdirSync(parent)
    .filter((f) => f.startsWith(prefix) && (f.endsWith('.tmp') || f.endsWith('.old')))
    .map((f) => join(parent, f))
    .filter(complete)
    .sort((a, b) => Number(b.endsWith('.tmp')) - Number(a.endsWith('.tmp')));
  return leftovers[0] ?? null;
}

/** Removes leftovers of interrupted swaps once `dir` is whole again. */
export function cleanCheckpointLeftovers(dir: string): void {
  const parent = dirname(dir);
  const prefix = `.${basename(dir)}.`;
  if (!existsSync(parent)) return;
  for (const f of readdirSync(parent)) {
    if (f.startsWith(prefix) && (f.endsWith('.tmp') || f.endsWith('.old'))) rmSync(join(parent, f), { recursive: true, force: true });
  }
}

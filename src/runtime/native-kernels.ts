/**
 * The 'onednn' backend: TensorFlow.js's pure-JS cpu backend with its heavy kernels replaced
 * by native ones from the optional addon `mixup-run-onednn` (src/native/onednn, oneDNN).
 *
 * Design: a backend of its own name rather than kernels registered over 'cpu'. It is a
 * second instance of the cpu backend's class (same tensor storage: plain typed arrays the
 * addon reads and writes in place) carrying a copy of every cpu kernel, with ours registered
 * on top. The 'cpu' backend stays untouched, so it remains the reference our kernels are
 * tested against in the same process, and switching between the two needs no global state.
 *
 * Native kernels: Conv2D, FusedConv2D (bias and ReLU fused as oneDNN post-ops),
 * Conv2DBackpropInput, Conv2DBackpropFilter, BatchMatMul (sgemm), training-mode BatchNorm
 * forward/backward and the whole SGD update of a parameter in one pass (under the kernel
 * names src/models/layers.ts and src/train/optimizer.ts route to), and the float32
 * elementwise work that dominates once those are fast (Add, Sub, Multiply, RealDiv with any
 * broadcast, Relu, Step: residual adds, ReLU and its gradient). In JavaScript, without the
 * cpu kernels' per-element index arithmetic: GatherV2 of whole rows and Sum/Mean over
 * adjacent axes. Cases they do not cover (other layouts, dilations, dtypes, activations) run
 * the cpu kernel instead, so results never depend on which kernels are present. A
 * self-check against the cpu kernels at registration keeps a miscompiled addon from being
 * used.
 *
 * When the addon is not installed (no libdnnl-dev at install time) nothing is registered
 * and `oneDnnAvailable()` says so; nothing is printed.
 */
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { BN_TRAINING_GRAD_KERNEL, BN_TRAINING_KERNEL } from '../models/layers.js';
import { SGD_UPDATE_KERNEL } from '../train/optimizer.js';
import { Rng } from './rng.js';

type TensorInfo = tf.TensorInfo;
type NamedAttrMap = tf.NamedAttrMap;

/** The addon's functions (src/native/onednn/onednn.cc). */
interface OneDnnAddon {
  info(): { version: string; threads: number };
  convForward(x: Float32Array, w: Float32Array, bias: Float32Array | null, y: Float32Array, geometry: Int32Array, relu: number): void;
  convBackwardData(dy: Float32Array, w: Float32Array, dx: Float32Array, geometry: Int32Array): void;
  convBackwardWeights(x: Float32Array, dy: Float32Array, dw: Float32Array, geometry: Int32Array): void;
  batchNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array, mean: Float32Array, variance: Float32Array, shape: Int32Array, eps: number): void;
  batchNormBackward(
    x: Float32Array, dy: Float32Array, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array,
    dx: Float32Array, dgamma: Float32Array, dbeta: Float32Array, shape: Int32Array, eps: number,
  ): void;
  /** op: 0 add, 1 sub, 2 mul, 3 div, broadcasting by strides (0 along repeated axes). */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, shape: Int32Array, aStrides: Int32Array, bStrides: Int32Array): void;
  /** op: 0 relu, 1 step(alpha). */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** geometry: [batch, M, N, K, transposeA, transposeB, aBatched, bBatched]. */
  matmul(a: Float32Array, b: Float32Array, out: Float32Array, geometry: Int32Array): void;
  /** One SGD step (src/train/optimizer.ts) into paramOut and bufferOut; nesterov 0 or 1. */
  sgdUpdate(
    param: Float32Array, buffer: Float32Array, grad: Float32Array, paramOut: Float32Array, bufferOut: Float32Array,
    lr: number, momentum: number, weightDecay: number, nesterov: number,
  ): void;
}

/** The part of the cpu backend class our kernels use. */
interface CpuLikeBackend extends tf.KernelBackend {
  data: { get(dataId: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: Float32Array | Int32Array): TensorInfo;
}

export const ONEDNN_BACKEND = 'onednn';
const PACKAGE = 'mixup-run-onednn';

let addon: OneDnnAddon | null | undefined;

/** The addon, or null when it is not installed or does not load. */
function loadAddon(): OneDnnAddon | null {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(PACKAGE) as OneDnnAddon;
      addon.info();
    } catch {
      addon = null;
    }
  }
  return addon;
}

export function oneDnnAvailable(): boolean {
  return loadAddon() != null;
}

/** The addon's package version, oneDNN's version and the OpenMP thread count, when present. */
export function oneDnnInfo(): { package_version: string; version: string; threads: number } | null {
  const a = loadAddon();
  if (a == null) return null;
  const { version } = createRequire(import.meta.url)(`${PACKAGE}/package.json`) as { version: string };
  return { package_version: version, ...a.info() };
}

// ---------------------------------------------------------------------------------------
// Helpers

function f32(backend: CpuLikeBackend, t: TensorInfo): Float32Array {
  const v = backend.data.get(t.dataId).values;
  if (!(v instanceof Float32Array)) throw new Error(`onednn: expected float32 data for a ${t.dtype} tensor`);
  return v;
}

function cpuKernel(name: string): tf.KernelFunc {
  const k = tf.getKernel(name, 'cpu');
  if (k == null) throw new Error(`onednn: the cpu backend has no ${name} kernel`);
  return k.kernelFunc;
}

function isNhwc(attrs: NamedAttrMap): boolean {
  const f = attrs['dataFormat'] as string | undefined;
  return f == null || f === 'NHWC' || f === 'channelsLast';
}

function unitDilation(attrs: NamedAttrMap): boolean {
  const d = attrs['dilations'] as number | number[] | undefined;
  return d == null || (typeof d === 'number' ? d === 1 : d.every((v) => v === 1));
}

/**
 * The addon's geometry array for x [N,H,W,Ci] * filter [fh,fw,Ci,Co], or null when oneDNN's
 * output-size rule (floor) would disagree with TensorFlow's (a 'ceil' rounding mode).
 */
function geometry(xShape: number[], filterShape: number[], attrs: NamedAttrMap): Int32Array | null {
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs['strides'] as number | [number, number],
    1,
    attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding,
    attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined,
  );
  const { top, left, bottom, right } = info.padInfo;
  const [N, H, W, Ci] = xShape;
  const [fh, fw, , Co] = filterShape;
  const { strideHeight: sh, strideWidth: sw, outHeight: Ho, outWidth: Wo } = info;
  if (Math.floor((H + top + bottom - fh) / sh) + 1 !== Ho || Math.floor((W + left + right - fw) / sw) + 1 !== Wo) return null;
  if ([top, left, bottom, right].some((p) => p < 0)) return null;
  return Int32Array.from([N, H, W, Ci, fh, fw, Co, Ho, Wo, sh, sw, top, left, bottom, right]);
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * A float32 array for an output the addon overwrites entirely: large ones skip the zero fill
 * (Buffer.allocUnsafe gives them a fresh, 8-byte aligned ArrayBuffer of their own).
 */
function outputF32(n: number): Float32Array {
  if (n < 1024) return new Float32Array(n);
  const buf = Buffer.allocUnsafe(n * 4);
  return new Float32Array(buf.buffer, buf.byteOffset, n);
}

/**
 * Whether the given tensors (absent ones aside) are non-empty float32 held in Float32Arrays:
 * native material. (The cpu backend may keep a float32 cast of a bool tensor as bytes.)
 */
function nativeInputs(backend: CpuLikeBackend, ...ts: (TensorInfo | undefined)[]): boolean {
  return ts.every((t) => t == null || (t.dtype === 'float32' && size(t.shape) > 0 && backend.data.get(t.dataId).values instanceof Float32Array));
}

// ---------------------------------------------------------------------------------------
// Kernels. Each receives the same arguments as the cpu kernel it replaces and falls back to
// it for cases it does not handle.

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: NamedAttrMap };

function conv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
  const g = isNhwc(attrs) && unitDilation(attrs) && nativeInputs(backend, x, filter) ? geometry(x.shape, filter.shape, attrs) : null;
  if (g == null) return cpuKernel('Conv2D')(args) as TensorInfo;
  const out = outputF32(g[0] * g[7] * g[8] * g[6]);
  loadAddon()!.convForward(f32(backend, x), f32(backend, filter), null, out, g, 0);
  return backend.makeTensorInfo([g[0], g[7], g[8], g[6]], 'float32', out);
}

function fusedConv2D(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, TensorInfo | undefined>;
  const activation = (attrs['activation'] as string | undefined) ?? 'linear';
  const Co = filter!.shape[3];
  const supported =
    isNhwc(attrs) && unitDilation(attrs) && nativeInputs(backend, x, filter, bias) && preluActivationWeights == null &&
    (activation === 'linear' || activation === 'relu') && (bias == null || size(bias.shape) === Co);
  const g = supported ? geometry(x!.shape, filter!.shape, attrs) : null;
  if (g == null) return cpuKernel('FusedConv2D')(args) as TensorInfo;
  const out = outputF32(g[0] * g[7] * g[8] * g[6]);
  const b = bias ? f32(backend, bias) : null;
  loadAddon()!.convForward(f32(backend, x!), f32(backend, filter!), b, out, g, activation === 'relu' ? 1 : 0);
  return backend.makeTensorInfo([g[0], g[7], g[8], g[6]], 'float32', out);
}

function conv2DBackpropInput(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const inputShape = attrs['inputShape'] as number[];
  const g = isNhwc(attrs) && nativeInputs(backend, dy, filter) && size(inputShape) > 0 ? geometry(inputShape, filter.shape, attrs) : null;
  if (g == null) return cpuKernel('Conv2DBackpropInput')(args) as TensorInfo;
  const out = outputF32(size(inputShape));
  loadAddon()!.convBackwardData(f32(backend, dy), f32(backend, filter), out, g);
  return backend.makeTensorInfo([...inputShape], 'float32', out);
}

function conv2DBackpropFilter(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const attrs = args.attrs ?? {};
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const filterShape = attrs['filterShape'] as number[];
  const g = isNhwc(attrs) && nativeInputs(backend, x, dy) && size(filterShape) > 0 ? geometry(x.shape, filterShape, attrs) : null;
  if (g == null) return cpuKernel('Conv2DBackpropFilter')(args) as TensorInfo;
  const out = outputF32(size(filterShape));
  loadAddon()!.convBackwardWeights(f32(backend, x), f32(backend, dy), out, g);
  return backend.makeTensorInfo([...filterShape], 'float32', out);
}

/** [N,H,W,C] of a rank-4 NHWC tensor as the addon's shape array. */
function bnShape(x: TensorInfo): Int32Array {
  if (x.shape.length !== 4) throw new Error(`onednn ${BN_TRAINING_KERNEL}: expected NHWC data, got shape [${x.shape}]`);
  return Int32Array.from(x.shape);
}

/** Inputs {x, scale, offset}, attr varianceEpsilon → [y, batch mean, biased batch variance]. */
function batchNormTraining(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const { x, scale, offset } = args.inputs as { x: TensorInfo; scale: TensorInfo; offset: TensorInfo };
  const eps = (args.attrs?.['varianceEpsilon'] as number | undefined) ?? 1e-3;
  const shape = bnShape(x);
  const C = shape[3];
  const y = outputF32(size(x.shape));
  const mean = new Float32Array(C);
  const variance = new Float32Array(C);
  if (y.length > 0) loadAddon()!.batchNormForward(f32(backend, x), f32(backend, scale), f32(backend, offset), y, mean, variance, shape, eps);
  return [
    backend.makeTensorInfo([...x.shape], 'float32', y),
    backend.makeTensorInfo([C], 'float32', mean),
    backend.makeTensorInfo([C], 'float32', variance),
  ];
}

/** Inputs {dy, x, scale, offset, mean, variance}, attr varianceEpsilon → [dx, dscale, doffset]. */
function batchNormTrainingGrad(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const i = args.inputs as Record<'dy' | 'x' | 'scale' | 'offset' | 'mean' | 'variance', TensorInfo>;
  const eps = (args.attrs?.['varianceEpsilon'] as number | undefined) ?? 1e-3;
  const shape = bnShape(i.x);
  const C = shape[3];
  const dx = outputF32(size(i.x.shape));
  const dscale = new Float32Array(C);
  const doffset = new Float32Array(C);
  if (dx.length > 0) {
    loadAddon()!.batchNormBackward(
      f32(backend, i.x), f32(backend, i.dy), f32(backend, i.scale), f32(backend, i.offset), f32(backend, i.mean), f32(backend, i.variance),
      dx, dscale, doffset, shape, eps,
    );
  }
  return [
    backend.makeTensorInfo([...i.x.shape], 'float32', dx),
    backend.makeTensorInfo([C], 'float32', dscale),
    backend.makeTensorInfo([C], 'float32', doffset),
  ];
}

/** Strides of a tensor of `shape` broadcast to `outShape`: 0 along the axes it repeats over. */
function broadcastStrides(shape: number[], outShape: number[]): Int32Array {
  const off = outShape.length - shape.length;
  const strides = new Int32Array(outShape.length);
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    strides[d + off] = shape[d] === 1 ? 0 : s;
    s *= shape[d];
  }
  return strides;
}

function binary(name: string, op: number) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as CpuLikeBackend;
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (!nativeInputs(backend, a, b)) return cpuKernel(name)(args) as TensorInfo;
    const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    const out = outputF32(size(shape));
    loadAddon()!.binary(op, f32(backend, a), f32(backend, b), out, Int32Array.from(shape), broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

function unary(name: string, op: number) {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs as { x: TensorInfo };
    if (!nativeInputs(backend, x)) return cpuKernel(name)(args) as TensorInfo;
    const out = outputF32(size(x.shape));
    loadAddon()!.unary(op, f32(backend, x), out, (args.attrs?.['alpha'] as number | undefined) ?? 0);
    return backend.makeTensorInfo([...x.shape], 'float32', out);
  };
}

/**
 * GatherV2 along axis 0 (whole rows), as mixup's permutation of a batch and its gradient use
 * it: one typed-array copy per row. The cpu kernel computes an index per element (about 0.2 s
 * for a 2-million-element activation); other axes and out-of-range indices go to it.
 */
function gatherRows(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const axis = tf.util.parseAxisParam(args.attrs?.['axis'] as number, x.shape)[0];
  const batchDims = (args.attrs?.['batchDims'] as number | undefined) ?? 0;
  const src = backend.data.get(x.dataId).values;
  const idx = backend.data.get(indices.dataId).values;
  const rows = x.shape[0];
  if (
    axis !== 0 || batchDims !== 0 || !(src instanceof Float32Array || src instanceof Int32Array) || !(idx instanceof Int32Array) ||
    x.dtype === 'bool' || size(x.shape) === 0 || idx.some((i) => i < 0 || i >= rows)
  ) {
    return cpuKernel('GatherV2')(args) as TensorInfo;
  }
  const row = size(x.shape.slice(1));
  const out = src instanceof Float32Array ? new Float32Array(idx.length * row) : new Int32Array(idx.length * row);
  idx.forEach((r, i) => out.set(src.subarray(r * row, (r + 1) * row), i * row));
  return backend.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out);
}

/**
 * Sum and Mean of float32 over one run of adjacent axes (global average pooling, the loss's
 * mean), summing in float64 in the cpu kernels' order, so the results are theirs bit for bit,
 * without their transpose (an index computation per element). Mean divides each element
 * first, as the cpu kernel does. Other axis sets go to the cpu kernels.
 */
function reduce(name: 'Sum' | 'Mean') {
  return (args: KernelArgs): TensorInfo => {
    const backend = args.backend as CpuLikeBackend;
    const { x } = args.inputs as { x: TensorInfo };
    const axes = [...new Set(tf.util.parseAxisParam(args.attrs?.['axis'] as number | number[], x.shape))].sort((p, q) => p - q);
    if (!nativeInputs(backend, x) || axes.length === 0 || axes.some((a, i) => a !== axes[0] + i)) return cpuKernel(name)(args) as TensorInfo;
    const first = axes[0];
    const last = axes[axes.length - 1];
    const outer = size(x.shape.slice(0, first));
    const mid = size(x.shape.slice(first, last + 1));
    const inner = size(x.shape.slice(last + 1));
    const v = f32(backend, x);
    const out = new Float32Array(outer * inner);
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let m = 0; m < mid; m++) {
        const base = (o * mid + m) * inner;
        if (name === 'Sum') for (let i = 0; i < inner; i++) acc[i] += v[base + i];
        else for (let i = 0; i < inner; i++) acc[i] += Math.fround(v[base + i] / mid);
      }
      out.set(acc, o * inner);
    }
    const keepDims = args.attrs?.['keepDims'] === true;
    const shape = keepDims ? x.shape.map((d, i) => (i >= first && i <= last ? 1 : d)) : x.shape.filter((_, i) => i < first || i > last);
    return backend.makeTensorInfo(shape, 'float32', out);
  };
}

/**
 * BatchMatMul through oneDNN's sgemm, one call per batch entry, when the batch dimensions of
 * a and b are equal or one side has none to speak of (the linear layer and its gradients);
 * other broadcasts go to the cpu kernel, which computes in JavaScript.
 */
function batchMatMul(args: KernelArgs): TensorInfo {
  const backend = args.backend as CpuLikeBackend;
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
  const ta = args.attrs?.['transposeA'] === true;
  const tb = args.attrs?.['transposeB'] === true;
  const fallback = () => cpuKernel('BatchMatMul')(args) as TensorInfo;
  if (!nativeInputs(backend, a, b) || a.shape.length < 2 || b.shape.length < 2) return fallback();
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [M, K] = ta ? [ac, ar] : [ar, ac];
  const [K2, N] = tb ? [bc, br] : [br, bc];
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const same = aBatch.length === bBatch.length && aBatch.every((d, i) => d === bBatch[i]);
  if (K !== K2 || !(same || size(aBatch) === 1 || size(bBatch) === 1)) return fallback();
  const outBatch = tf.backend_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const batch = size(outBatch);
  const out = outputF32(batch * M * N);
  const geometry = Int32Array.from([batch, M, N, K, ta ? 1 : 0, tb ? 1 : 0, size(aBatch) === batch ? 1 : 0, size(bBatch) === batch ? 1 : 0]);
  loadAddon()!.matmul(f32(backend, a), f32(backend, b), out, geometry);
  return backend.makeTensorInfo([...outBatch, M, N], 'float32', out);
}

/** Inputs {param, buffer, grad}, attrs {lr, momentum, weightDecay, nesterov} → [param, buffer] after one SGD step. */
function sgdUpdate(args: KernelArgs): TensorInfo[] {
  const backend = args.backend as CpuLikeBackend;
  const { param, buffer, grad } = args.inputs as Record<'param' | 'buffer' | 'grad', TensorInfo>;
  const a = args.attrs ?? {};
  if (!nativeInputs(backend, param, buffer, grad)) throw new Error(`onednn ${SGD_UPDATE_KERNEL}: expected non-empty float32 tensors`);
  const n = size(param.shape);
  const [p, b] = [outputF32(n), outputF32(n)];
  loadAddon()!.sgdUpdate(
    f32(backend, param), f32(backend, buffer), f32(backend, grad), p, b,
    a['lr'] as number, a['momentum'] as number, a['weightDecay'] as number, a['nesterov'] ? 1 : 0,
  );
  return [backend.makeTensorInfo([...param.shape], 'float32', p), backend.makeTensorInfo([...param.shape], 'float32', b)];
}

const NATIVE: Record<string, (args: KernelArgs) => TensorInfo | TensorInfo[]> = {
  Conv2D: conv2D,
  FusedConv2D: fusedConv2D,
  Conv2DBackpropInput: conv2DBackpropInput,
  Conv2DBackpropFilter: conv2DBackpropFilter,
  [BN_TRAINING_KERNEL]: batchNormTraining,
  [BN_TRAINING_GRAD_KERNEL]: batchNormTrainingGrad,
  Add: binary('Add', 0),
  Sub: binary('Sub', 1),
  Multiply: binary('Multiply', 2),
  RealDiv: binary('RealDiv', 3),
  Relu: unary('Relu', 0),
  Step: unary('Step', 1),
  GatherV2: gatherRows,
  Sum: reduce('Sum'),
  Mean: reduce('Mean'),
  BatchMatMul: batchMatMul,
  [SGD_UPDATE_KERNEL]: sgdUpdate,
};

/** Names of the native kernels, for run manifests. */
export const ONEDNN_KERNELS: readonly string[] = Object.keys(NATIVE);

/**
 * Runs a strided convolution and both its gradients through our kernels and the cpu
 * backend's, directly on the two backends (the active backend is left alone), and says
 * whether they agree: a guard against an addon built against a different oneDNN or CPU.
 */
function selfCheck(): boolean {
  const cpu = tf.findBackend('cpu') as CpuLikeBackend;
  const ours = tf.findBackend(ONEDNN_BACKEND) as CpuLikeBackend;
  const rng = new Rng(0, 'onednn-self-check');
  const data = (shape: number[]) => Float32Array.from({ length: size(shape) }, () => rng.normal());
  const xs = [2, 7, 6, 5];
  const ws = [3, 3, 5, 4];
  const dys = [2, 4, 3, 4];
  const attrs = { strides: 2, pad: 'same', dataFormat: 'NHWC', dilations: 1, inputShape: xs, filterShape: ws } as unknown as NamedAttrMap;
  const values = { x: data(xs), filter: data(ws), dy: data(dys) };
  const run = (backend: CpuLikeBackend, names: Array<keyof typeof values>, fn: tf.KernelFunc) => {
    const shapes = { x: xs, filter: ws, dy: dys };
    const inputs = Object.fromEntries(names.map((n) => [n, backend.makeTensorInfo(shapes[n], 'float32', values[n].slice())]));
    const out = fn({ inputs, backend, attrs }) as TensorInfo;
    const result = Float32Array.from(backend.readSync(out.dataId) as Float32Array);
    for (const t of [...Object.values(inputs), out]) backend.disposeData(t.dataId);
    return result;
  };
  const cases: Array<[string, Array<keyof typeof values>]> = [
    ['Conv2D', ['x', 'filter']],
    ['Conv2DBackpropInput', ['dy', 'filter']],
    ['Conv2DBackpropFilter', ['x', 'dy']],
  ];
  try {
    return cases.every(([kernel, names]) => {
      const want = run(cpu, names, cpuKernel(kernel));
      const got = run(ours, names, NATIVE[kernel] as tf.KernelFunc);
      const scale = Math.max(1, ...want.map(Math.abs));
      return got.length === want.length && got.every((v, i) => Math.abs(v - want[i]) <= 1e-4 * scale);
    });
  } catch {
    return false;
  }
}

/**
 * Registers the 'onednn' backend (once) when the addon loads and passes a self-check;
 * returns whether it is registered. Does not make it active.
 */
export function registerOneDnnBackend(): boolean {
  if (tf.findBackendFactory(ONEDNN_BACKEND) != null) return true;
  if (!oneDnnAvailable()) return false;
  const cpu = tf.findBackend('cpu');
  if (cpu == null) return false;
  const CpuBackend = cpu.constructor as new () => tf.KernelBackend;
  tf.registerBackend(ONEDNN_BACKEND, () => new CpuBackend(), 0);
  for (const k of tf.getKernelsForBackend('cpu')) {
    if (!(k.kernelName in NATIVE)) tf.registerKernel({ ...k, backendName: ONEDNN_BACKEND });
  }
  for (const [kernelName, fn] of Object.entries(NATIVE)) {
    tf.registerKernel({ kernelName, backendName: ONEDNN_BACKEND, kernelFunc: fn as tf.KernelFunc });
  }
  if (!selfCheck()) {
    for (const k of tf.getKernelsForBackend(ONEDNN_BACKEND)) tf.unregisterKernel(k.kernelName, ONEDNN_BACKEND);
    tf.removeBackend(ONEDNN_BACKEND);
    return false;
  }
  return true;
}

/**
 * Training kernels for TensorFlow.js's wasm backend.
 *
 * Why: tfjs-backend-wasm 4.22 cannot train convnets by itself. It has no
 * `Conv2DBackpropFilter` (the weight gradient of every conv) and no
 * `UnsortedSegmentSum` (the gradient of tf.gather), and its
 * `Conv2DBackpropInput` is a scalar C loop (~2 GFLOP/s). This module registers
 * replacements for backendName 'wasm' through tfjs's public kernel registry.
 *
 * How: both conv gradients are rewritten as ONE forward convolution executed
 * by the backend's own XNNPACK `Conv2D` kernel (SIMD GEMM), plus cheap layout
 * work (the backend's `Transpose` kernel, or JS loops over the wasm heap):
 *
 *  - Conv2DBackpropFilter: dW[a,b,ci,co] = sum_{n,i,j} x[n, i*s+a-pT, j*s+b-pL,
 *    ci] * dy[n,i,j,co]. That is a forward conv whose "batch" is Ci, whose
 *    input channels are N, whose filter is dy laid out as [Ho,Wo,N,Co] and
 *    whose dilation is the forward stride: x -> [Ci,H,W,N], dy -> [Ho,Wo,N,Co],
 *    conv(stride 1, dilation s, the forward's top/left pads) -> [Ci,fh',fw',Co],
 *    keep the first fh x fw taps and lay out as [fh,fw,Ci,Co]. The wasm Conv2D
 *    kernel passes dilations through to XNNPACK and honours them (verified in
 *    test/runtime/wasm-kernels.test.ts against the cpu backend), so no other
 *    formulation is needed.
 *  - Conv2DBackpropInput: dx is the stride-1 correlation of dy, zero-inserted
 *    by the stride and padded by (f-1-padBefore) / (H-1+padBefore-(Ho-1)*s),
 *    with the filter's taps reversed and its in/out channels swapped
 *    ([fh,fw,Ci,Co] -> [fh,fw,Co,Ci], a JS copy; tf.reverse is slow on wasm).
 *    For stride 1 with non-negative pads dy is fed to XNNPACK directly with
 *    explicit pads; otherwise the zero-inserted, padded (or cropped) dy is
 *    built on the heap. The output has exactly `inputShape`.
 *  - UnsortedSegmentSum: a direct scatter-add over the heap; ids outside
 *    [0, numSegments) are dropped, as TensorFlow does.
 *
 * Cost notes: in backprop-filter the conv's filter is dy, so XNNPACK (via the
 * tfjs C++ wrapper, which also re-lays the filter out to OHWI) repacks
 * size(dy) weights on every call; that plus the two transposes makes it
 * ~1.3-1.7x a forward conv. For stride s > 1, backprop-input convolves the
 * zero-inserted dy and so does s_h*s_w times the useful FLOPs (a sub-pixel
 * split into per-phase filters would avoid most of that).
 *
 * Only NHWC, float32, dilation-1 forward convolutions are supported; anything
 * else throws an Error rather than computing a wrong answer.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type TensorInfo = tf.TensorInfo;
type NamedAttrMap = tf.NamedAttrMap;

const BACKEND = 'wasm';

/** kernelFuncs written here; used to tell ours from tfjs's built-ins. */
const ourKernelFuncs = new WeakSet<tf.KernelFunc>();
/** Built-in wasm kernels that ours replaced (only Conv2DBackpropInput today). */
const originalKernels = new Map<string, tf.KernelConfig>();

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function kernelFuncOf(name: string): tf.KernelFunc {
  const cfg = tf.getKernel(name, BACKEND);
  if (cfg == null) {
    throw new Error(`wasm-kernels: the wasm backend has no '${name}' kernel`);
  }
  return cfg.kernelFunc;
}

function runConv2D(
  backend: BackendWasm,
  x: TensorInfo,
  filter: TensorInfo,
  pads: [number, number, number, number], // top, bottom, left, right
  dilations: [number, number],
): TensorInfo {
  const [top, bottom, left, right] = pads;
  const attrs = {
    strides: [1, 1],
    pad: [[0, 0], [top, bottom], [left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations,
    dimRoundingMode: undefined,
  } as unknown as NamedAttrMap;
  return kernelFuncOf('Conv2D')({ inputs: { x, filter }, backend, attrs }) as TensorInfo;
}

function runTranspose(backend: BackendWasm, x: TensorInfo, perm: number[]): TensorInfo {
  return kernelFuncOf('Transpose')({
    inputs: { x },
    backend,
    attrs: { perm } as unknown as NamedAttrMap,
  }) as TensorInfo;
}

function dispose(backend: BackendWasm, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function heapF32(backend: BackendWasm, info: TensorInfo): Float32Array {
  // Always re-fetch after any allocation: a heap growth detaches old views.
  return backend.typedArrayFromHeap(info) as Float32Array;
}

function pair(v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number') {
    return [v[0], v[1]];
  }
  throw new Error(`wasm-kernels: unsupported ${what} ${JSON.stringify(v)}`);
}

function checkCommon(kernel: string, attrs: NamedAttrMap, tensors: TensorInfo[]): void {
  const dataFormat = attrs['dataFormat'] as string | undefined;
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`wasm-kernels ${kernel}: only dataFormat 'NHWC' is supported, got '${dataFormat}'`);
  }
  const dil = attrs['dilations'];
  if (dil != null) {
    const [dh, dw] = pair(dil, 'dilations');
    if (dh !== 1 || dw !== 1) {
      throw new Error(`wasm-kernels ${kernel}: dilations other than 1 are not supported, got [${dh},${dw}]`);
    }
  }
  for (const t of tensors) {
    if (t.dtype !== 'float32') {
      throw new Error(`wasm-kernels ${kernel}: only float32 is supported, got ${t.dtype}`);
    }
    if (t.shape.length !== 4) {
      throw new Error(`wasm-kernels ${kernel}: expected rank-4 tensors, got shape [${t.shape}]`);
    }
  }
}

/** Forward conv geometry of x [N,H,W,Ci] * filter [fh,fw,Ci,Co]. */
function forwardInfo(
  kernel: string,
  xShape: number[],
  filterShape: number[],
  attrs: NamedAttrMap,
  dyShape: number[],
) {
  const strides = attrs['strides'] as number | [number, number];
  const pad = attrs['pad'] as 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
  const dimRoundingMode = attrs['dimRoundingMode'] as 'floor' | 'round' | 'ceil' | undefined;
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { top, bottom, left, right } = info.padInfo;
  if (top < 0 || bottom < 0 || left < 0 || right < 0) {
    throw new Error(`wasm-kernels ${kernel}: negative padding is not supported`);
  }
  if (info.strideHeight < 1 || info.strideWidth < 1) {
    throw new Error(`wasm-kernels ${kernel}: strides must be >= 1`);
  }
  if (
    dyShape[0] !== info.batchSize ||
    dyShape[1] !== info.outHeight ||
    dyShape[2] !== info.outWidth ||
    dyShape[3] !== info.outChannels
  ) {
    throw new Error(
      `wasm-kernels ${kernel}: dy shape [${dyShape}] does not match the forward conv output ` +
        `[${info.batchSize},${info.outHeight},${info.outWidth},${info.outChannels}]`,
    );
  }
  return info;
}

// ---------------------------------------------------------------------------
// Conv2DBackpropFilter
// ---------------------------------------------------------------------------

function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs ?? {};
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  checkCommon('Conv2DBackpropFilter', attrs, [x, dy]);
  const filterShape = attrs['filterShape'] as number[];
  if (!Array.isArray(filterShape) || filterShape.length !== 4) {
    throw new Error(`wasm-kernels Conv2DBackpropFilter: bad filterShape ${JSON.stringify(filterShape)}`);
  }
  const [N, H, W, Ci] = x.shape;
  const [fh, fw, fCi, Co] = filterShape;
  if (fCi !== Ci || dy.shape[3] !== Co) {
    throw new Error(
      `wasm-kernels Conv2DBackpropFilter: filterShape [${filterShape}] inconsistent with x [${x.shape}] / dy [${dy.shape}]`,
    );
  }
  const info = forwardInfo('Conv2DBackpropFilter', x.shape, filterShape, attrs, dy.shape);
  const { strideHeight: sh, strideWidth: sw, outHeight: Ho, outWidth: Wo } = info;
  const { top, left } = info.padInfo;
  const out = backend.makeOutput([fh, fw, Ci, Co], 'float32');
  const size = fh * fw * Ci * Co;
  if (size === 0) return out;
  if (N * Ho * Wo === 0 || H * W === 0) {
    heapF32(backend, out).fill(0);
    return out;
  }
  // Bottom/right pads chosen so the conv output is exactly fh x fw when the
  // input is long enough; rows past the forward's last window are never read
  // by the forward conv, so padding them differently changes nothing. If the
  // input has unused trailing rows (valid/floor cases) the pad is 0 and the
  // conv yields extra taps that we discard.
  const bottom = Math.max(0, (Ho - 1) * sh + fh - H - top);
  const right = Math.max(0, (Wo - 1) * sw + fw - W - left);

  const xT = runTranspose(backend, x, [3, 1, 2, 0]); // [Ci,H,W,N]
  let dyT: TensorInfo; // [Ho,Wo,N,Co]
  let dyTOwned = true;
  if (N === 1) {
    dyT = { dataId: dy.dataId, shape: [Ho, Wo, 1, Co], dtype: 'float32' };
    dyTOwned = false;
  } else {
    dyT = runTranspose(backend, dy, [1, 2, 0, 3]);
  }
  const conv = runConv2D(backend, xT, dyT, [top, bottom, left, right], [sh, sw]); // [Ci,fh',fw',Co]
  dispose(backend, xT);
  if (dyTOwned) dispose(backend, dyT);

  const [, FH, FW] = conv.shape;
  if (FH < fh || FW < fw) {
    dispose(backend, conv);
    throw new Error('wasm-kernels Conv2DBackpropFilter: internal error, conv output smaller than filter');
  }
  const src = heapF32(backend, conv);
  const dst = heapF32(backend, out);
  // dst[a,b,ci,co] = src[ci,a,b,co]
  for (let a = 0; a < fh; a++) {
    for (let b = 0; b < fw; b++) {
      const dBase = (a * fw + b) * Ci * Co;
      for (let ci = 0; ci < Ci; ci++) {
        const s = ((ci * FH + a) * FW + b) * Co;
        dst.set(src.subarray(s, s + Co), dBase + ci * Co);
      }
    }
  }
  dispose(backend, conv);
  return out;
}

// ---------------------------------------------------------------------------
// Conv2DBackpropInput
// ---------------------------------------------------------------------------

function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs ?? {};
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  checkCommon('Conv2DBackpropInput', attrs, [dy, filter]);
  const inputShape = attrs['inputShape'] as number[];
  if (!Array.isArray(inputShape) || inputShape.length !== 4) {
    throw new Error(`wasm-kernels Conv2DBackpropInput: bad inputShape ${JSON.stringify(inputShape)}`);
  }
  const [N, H, W, Ci] = inputShape;
  const [fh, fw, fCi, Co] = filter.shape;
  if (fCi !== Ci || dy.shape[3] !== Co) {
    throw new Error(
      `wasm-kernels Conv2DBackpropInput: filter [${filter.shape}] inconsistent with inputShape [${inputShape}] / dy [${dy.shape}]`,
    );
  }
  const info = forwardInfo('Conv2DBackpropInput', inputShape, filter.shape, attrs, dy.shape);
  const { strideHeight: sh, strideWidth: sw, outHeight: Ho, outWidth: Wo } = info;
  const { top, left } = info.padInfo;

  const out0 = (): TensorInfo => {
    const o = backend.makeOutput([N, H, W, Ci], 'float32');
    if (N * H * W * Ci > 0) heapF32(backend, o).fill(0);
    return o;
  };
  if (N * H * W * Ci === 0 || Ho * Wo * Co === 0 || fh * fw === 0) return out0();

  // Filter with reversed taps and swapped channels: wr[a,b,co,ci] = w[fh-1-a, fw-1-b, ci, co].
  const wr = backend.makeOutput([fh, fw, Co, Ci], 'float32');
  {
    const w = heapF32(backend, filter);
    const r = heapF32(backend, wr);
    for (let a = 0; a < fh; a++) {
      for (let b = 0; b < fw; b++) {
        const sBase = ((fh - 1 - a) * fw + (fw - 1 - b)) * Ci * Co;
        const dBase = (a * fw + b) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          const s = sBase + ci * Co;
          let d = dBase + ci;
          for (let co = 0; co < Co; co++, d += Ci) r[d] = w[s + co];
        }
      }
    }
  }

  // Pads of the equivalent stride-1 correlation of the zero-inserted dy
  // (length (Ho-1)*s+1) giving exactly H outputs; they can be negative when
  // the forward pads exceed f-1 (then dy is cropped instead).
  const pT = fh - 1 - top;
  const pB = H - 1 + top - (Ho - 1) * sh;
  const pL = fw - 1 - left;
  const pR = W - 1 + left - (Wo - 1) * sw;

  let result: TensorInfo;
  if (sh === 1 && sw === 1 && pT >= 0 && pB >= 0 && pL >= 0 && pR >= 0) {
    result = runConv2D(backend, dy, wr, [pT, pB, pL, pR], [1, 1]);
  } else {
    // Build the zero-inserted, padded (or, for negative pads, cropped) dy:
    // Q[n, pT + i*sh, pL + j*sw, :] = dy[n, i, j, :], zero elsewhere,
    // with Q of spatial size (H+fh-1) x (W+fw-1) so that a 'valid' conv gives H x W.
    const QH = H + fh - 1;
    const QW = W + fw - 1;
    const q = backend.makeOutput([N, QH, QW, Co], 'float32');
    const Q = heapF32(backend, q);
    const D = heapF32(backend, dy);
    Q.fill(0);
    let j0 = 0;
    while (j0 < Wo && pL + j0 * sw < 0) j0++;
    for (let n = 0; n < N; n++) {
      for (let i = 0; i < Ho; i++) {
        const r = pT + i * sh;
        if (r < 0) continue;
        if (r >= QH) break;
        const qRow = (n * QH + r) * QW;
        const dRow = (n * Ho + i) * Wo;
        for (let j = j0; j < Wo; j++) {
          const c = pL + j * sw;
          if (c >= QW) break;
          const s = (dRow + j) * Co;
          Q.set(D.subarray(s, s + Co), (qRow + c) * Co);
        }
      }
    }
    result = runConv2D(backend, q, wr, [0, 0, 0, 0], [1, 1]);
    dispose(backend, q);
  }
  dispose(backend, wr);
  const rs = result.shape;
  if (rs[0] !== N || rs[1] !== H || rs[2] !== W || rs[3] !== Ci) {
    dispose(backend, result);
    throw new Error(`wasm-kernels Conv2DBackpropInput: internal error, got shape [${rs}]`);
  }
  return result;
}

// ---------------------------------------------------------------------------
// UnsortedSegmentSum
// ---------------------------------------------------------------------------

function unsortedSegmentSum(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: {};
  attrs?: NamedAttrMap;
}): TensorInfo {
  const backend = args.backend as BackendWasm;
  const attrs = args.attrs ?? {};
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = attrs['numSegments'] as number;
  if (!Number.isInteger(numSegments) || numSegments < 0) {
    throw new Error(`wasm-kernels UnsortedSegmentSum: numSegments must be a non-negative integer, got ${numSegments}`);
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasm-kernels UnsortedSegmentSum: unsupported dtype ${x.dtype}`);
  }
  if (segmentIds.dtype !== 'int32') {
    throw new Error(`wasm-kernels UnsortedSegmentSum: segmentIds must be int32, got ${segmentIds.dtype}`);
  }
  const k = segmentIds.shape.length;
  if (k > x.shape.length || segmentIds.shape.some((d, i) => d !== x.shape[i])) {
    throw new Error(
      `wasm-kernels UnsortedSegmentSum: segmentIds shape [${segmentIds.shape}] must be a prefix of x shape [${x.shape}]`,
    );
  }
  const innerShape = x.shape.slice(k);
  const inner = innerShape.reduce((p, d) => p * d, 1);
  const n = segmentIds.shape.reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([numSegments, ...innerShape], x.dtype);
  const total = numSegments * inner;
  if (total === 0) return out;
  // Views fetched after makeOutput (which may grow the heap).
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  dst.fill(0);
  if (n === 0 || inner === 0) return out;
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const ids = backend.typedArrayFromHeap(segmentIds) as Int32Array;
  const isInt = x.dtype === 'int32';
  for (let r = 0; r < n; r++) {
    const id = ids[r];
    if (id < 0 || id >= numSegments) continue; // dropped, as TensorFlow does
    const s = r * inner;
    const d = id * inner;
    if (isInt) {
      for (let c = 0; c < inner; c++) dst[d + c] = (dst[d + c] + src[s + c]) | 0;
    } else {
      for (let c = 0; c < inner; c++) dst[d + c] += src[s + c];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

const ourConfigs: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInput as tf.KernelFunc },
  { kernelName: 'UnsortedSegmentSum', backendName: BACKEND, kernelFunc: unsortedSegmentSum as tf.KernelFunc },
];
for (const c of ourConfigs) ourKernelFuncs.add(c.kernelFunc);

/** Names of the kernels this module provides, for run manifests. */
export const WASM_TRAINING_KERNELS: readonly string[] = ourConfigs.map((c) => c.kernelName);

/**
 * Registers this module's kernels for the 'wasm' backend. Idempotent and
 * silent: an existing registration is removed before ours is added, and the
 * built-in kernel it replaces (if any) is remembered for
 * `unregisterWasmTrainingKernels` / `builtinWasmKernel`.
 */
export function registerWasmTrainingKernels(): void {
  for (const config of ourConfigs) {
    const existing = tf.getKernel(config.kernelName, BACKEND);
    if (existing != null) {
      if (existing.kernelFunc === config.kernelFunc) continue;
      if (!ourKernelFuncs.has(existing.kernelFunc) && !originalKernels.has(config.kernelName)) {
        originalKernels.set(config.kernelName, existing);
      }
      tf.unregisterKernel(config.kernelName, BACKEND);
    }
    // Carry the replaced built-in's setupFunc (for Conv2DBackpropInput it binds
    // the C function): the engine runs setupFuncs only for kernels registered
    // when the backend initialises, and the built-in must stay usable for
    // unregisterWasmTrainingKernels() / builtinWasmKernel().
    const original = originalKernels.get(config.kernelName);
    if (original?.setupFunc != null) config.setupFunc = original.setupFunc;
    tf.registerKernel(config);
  }
}

/** Removes our kernels and restores the built-in ones they replaced. */
export function unregisterWasmTrainingKernels(): void {
  for (const config of ourConfigs) {
    const existing = tf.getKernel(config.kernelName, BACKEND);
    if (existing == null || !ourKernelFuncs.has(existing.kernelFunc)) continue;
    tf.unregisterKernel(config.kernelName, BACKEND);
    const original = originalKernels.get(config.kernelName);
    if (original != null) tf.registerKernel(original);
  }
}

/**
 * The built-in wasm kernel that ours replaced (e.g. 'Conv2DBackpropInput'),
 * or the currently registered one if ours were never registered; undefined if
 * tfjs has none. For benchmarks and comparisons.
 */
export function builtinWasmKernel(kernelName: string): tf.KernelConfig | undefined {
  const saved = originalKernels.get(kernelName);
  if (saved != null) return saved;
  const current = tf.getKernel(kernelName, BACKEND);
  return current != null && !ourKernelFuncs.has(current.kernelFunc) ? current : undefined;
}

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
 *  - Conv2DBackpropInput, stride 1: dx is the correlation of dy, padded by
 *    (f-1-padBefore) / (H-1+padBefore-(Ho-1)), with the filter's taps
 *    reversed and its in/out channels swapped ([fh,fw,Ci,Co] -> [fh,fw,Co,Ci],
 *    a JS copy; tf.reverse is slow on wasm). With non-negative pads dy goes to
 *    XNNPACK directly; otherwise a padded or cropped copy is built on the heap.
 *  - Conv2DBackpropInput, stride s > 1 (sub-pixel): the rows of dx with
 *    h = s*q + r (phase r) only ever meet the taps k = k0 + s*t with
 *    k0 = (r + padBefore) mod s, so each phase is a stride-1 correlation of dy
 *    with the sub-filter of those taps (reversed, channels swapped):
 *      dx[s*q + r] = sum_t dy[q - c - t] * w[k0 + s*t],  c = (k0 - r - padBefore) / s,
 *    i.e. padBefore' = c + T - 1 for T taps, and padAfter' set so there are
 *    ceil((H - r) / s) outputs. The s_h*s_w phase results are interleaved into
 *    dx (JS copies on the heap); phases with no taps stay zero. This does the
 *    useful FLOPs only, instead of convolving a zero-inserted dy (s_h*s_w times
 *    as many). The output has exactly `inputShape`.
 *  - UnsortedSegmentSum: a direct scatter-add over the heap; ids outside
 *    [0, numSegments) are dropped, as TensorFlow does.
 *  - GatherV2 of whole rows (axis 0), what mixup's batch permutations use: one
 *    heap copy per row instead of the built-in per-element index arithmetic
 *    (0.2 s for a 2-million-element activation, a few percent of a step).
 *
 * Cost notes: in backprop-filter the conv's filter is dy, so XNNPACK (via the
 * tfjs C++ wrapper, which also re-lays the filter out to OHWI) repacks
 * size(dy) weights on every call; that plus the two transposes makes it
 * ~1.3-1.7x a forward conv.
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
/** Built-in wasm kernels that ours replaced (Conv2DBackpropInput, GatherV2). */
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

  if (sh === 1 && sw === 1) {
    const taps: Taps = { h: { k0: 0, step: 1, count: fh }, w: { k0: 0, step: 1, count: fw } };
    const pads = [fh - 1 - top, H - 1 + top - (Ho - 1), fw - 1 - left, W - 1 + left - (Wo - 1)] as Pads;
    return phaseConv(backend, dy, filter, taps, pads, [N, H, W, Ci]);
  }

  // Sub-pixel: one stride-1 correlation per phase (rh, rw), interleaved into dx.
  const phase = (r: number, s: number, f: number, pad: number, size: number, outSize: number) => {
    const k0 = (((r + pad) % s) + s) % s;
    const count = k0 < f ? Math.ceil((f - k0) / s) : 0;
    const c = (k0 - r - pad) / s;
    const q = r < size ? Math.ceil((size - r) / s) : 0;
    const before = c + count - 1;
    return { tap: { k0, step: s, count }, q, before, after: q - outSize - before + count - 1 };
  };
  const out = backend.makeOutput([N, H, W, Ci], 'float32');
  const phasesH = Array.from({ length: sh }, (_, r) => phase(r, sh, fh, top, H, Ho));
  const phasesW = Array.from({ length: sw }, (_, r) => phase(r, sw, fw, left, W, Wo));
  // Positions no tap reaches (a phase without taps) keep a zero gradient.
  if (phasesH.some((p) => p.tap.count === 0) || phasesW.some((p) => p.tap.count === 0)) heapF32(backend, out).fill(0);
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const ph = phasesH[rh];
      const pw = phasesW[rw];
      if (ph.q === 0 || pw.q === 0 || ph.tap.count === 0 || pw.tap.count === 0) continue;
      const part = phaseConv(backend, dy, filter, { h: ph.tap, w: pw.tap }, [ph.before, ph.after, pw.before, pw.after], [N, ph.q, pw.q, Ci]);
      // dx[n, sh*q + rh, sw*p + rw, :] = part[n, q, p, :]
      const src = heapF32(backend, part);
      const dst = heapF32(backend, out);
      for (let n = 0; n < N; n++) {
        for (let q = 0; q < ph.q; q++) {
          const sRow = (n * ph.q + q) * pw.q;
          const dRow = (n * H + sh * q + rh) * W;
          for (let p = 0; p < pw.q; p++) {
            const sOff = (sRow + p) * Ci;
            dst.set(src.subarray(sOff, sOff + Ci), (dRow + sw * p + rw) * Ci);
          }
        }
      }
      dispose(backend, part);
    }
  }
  return out;
}

/** Taps k0, k0 + step, ... (count of them) of a filter axis. */
interface Taps {
  h: { k0: number; step: number; count: number };
  w: { k0: number; step: number; count: number };
}
/** top, bottom, left, right; negative values crop. */
type Pads = [number, number, number, number];

/**
 * The stride-1 correlation of dy [N,Ho,Wo,Co] with the given taps of `filter`
 * [fh,fw,Ci,Co], reversed and with channels swapped, under `pads`; checked to
 * have shape `want`.
 */
function phaseConv(backend: BackendWasm, dy: TensorInfo, filter: TensorInfo, taps: Taps, pads: Pads, want: number[]): TensorInfo {
  const [, fw, Ci, Co] = filter.shape;
  const { h, w: tw } = taps;
  // g[a,b,co,ci] = w[h.k0 + h.step*(h.count-1-a), tw.k0 + tw.step*(tw.count-1-b), ci, co]
  const g = backend.makeOutput([h.count, tw.count, Co, Ci], 'float32');
  {
    const wv = heapF32(backend, filter);
    const gv = heapF32(backend, g);
    for (let a = 0; a < h.count; a++) {
      for (let b = 0; b < tw.count; b++) {
        const sBase = ((h.k0 + h.step * (h.count - 1 - a)) * fw + (tw.k0 + tw.step * (tw.count - 1 - b))) * Ci * Co;
        const dBase = (a * tw.count + b) * Co * Ci;
        for (let ci = 0; ci < Ci; ci++) {
          const s = sBase + ci * Co;
          let d = dBase + ci;
          for (let co = 0; co < Co; co++, d += Ci) gv[d] = wv[s + co];
        }
      }
    }
  }
  let result: TensorInfo;
  if (pads.every((p) => p >= 0)) {
    result = runConv2D(backend, dy, g, pads, [1, 1]);
  } else {
    // Pad (or, where negative, crop) dy explicitly, then a 'valid' correlation.
    const [N, Ho, Wo] = dy.shape;
    const [top, bottom, left, right] = pads;
    const QH = Ho + top + bottom;
    const QW = Wo + left + right;
    if (QH < h.count || QW < tw.count) {
      dispose(backend, g);
      throw new Error('wasm-kernels Conv2DBackpropInput: internal error, nothing left after cropping');
    }
    const q = backend.makeOutput([N, QH, QW, Co], 'float32');
    const Q = heapF32(backend, q);
    const D = heapF32(backend, dy);
    Q.fill(0);
    const j0 = Math.max(0, -left);
    const j1 = Math.min(Wo, QW - left);
    for (let n = 0; n < N; n++) {
      for (let i = Math.max(0, -top); i < Math.min(Ho, QH - top); i++) {
        if (j1 <= j0) break;
        const s = ((n * Ho + i) * Wo + j0) * Co;
        Q.set(D.subarray(s, s + (j1 - j0) * Co), ((n * QH + i + top) * QW + j0 + left) * Co);
      }
    }
    result = runConv2D(backend, q, g, [0, 0, 0, 0], [1, 1]);
    dispose(backend, q);
  }
  dispose(backend, g);
  const rs = result.shape;
  if (rs.length !== 4 || rs.some((d, i) => d !== want[i])) {
    dispose(backend, result);
    throw new Error(`wasm-kernels Conv2DBackpropInput: internal error, got shape [${rs}], expected [${want}]`);
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
// GatherV2 along axis 0
// ---------------------------------------------------------------------------

/**
 * Whole rows (axis 0), as mixup's permutation of a batch and its gradient use
 * it: one heap copy per row, where the built-in kernel computes an index per
 * element (~0.2 s for a 2-million-element activation). Other axes, batch
 * dimensions, dtypes and out-of-range indices go to the built-in kernel.
 */
function gatherRows(args: { inputs: tf.NamedTensorInfoMap; backend: {}; attrs?: NamedAttrMap }): TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, indices } = args.inputs as { x: TensorInfo; indices: TensorInfo };
  const axis = tf.util.parseAxisParam(args.attrs?.['axis'] as number, x.shape)[0];
  const batchDims = (args.attrs?.['batchDims'] as number | undefined) ?? 0;
  const rows = x.shape[0];
  const builtin = () => {
    const original = originalKernels.get('GatherV2');
    if (original == null) throw new Error('wasm-kernels GatherV2: the built-in kernel is missing');
    return original.kernelFunc(args) as TensorInfo;
  };
  if (axis !== 0 || batchDims !== 0 || (x.dtype !== 'float32' && x.dtype !== 'int32') || indices.dtype !== 'int32') return builtin();
  if (x.shape.reduce((p, d) => p * d, 1) === 0) return builtin();
  if ((backend.typedArrayFromHeap(indices) as Int32Array).some((i) => i < 0 || i >= rows)) return builtin();
  const row = x.shape.slice(1).reduce((p, d) => p * d, 1);
  const out = backend.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
  // Views fetched after makeOutput (which may grow the heap).
  const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array | Int32Array;
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  idx.forEach((r, i) => dst.set(src.subarray(r * row, (r + 1) * row), i * row));
  return out;
}

// ---------------------------------------------------------------------------
// Registration
// ---------------------------------------------------------------------------

const ourConfigs: tf.KernelConfig[] = [
  { kernelName: 'Conv2DBackpropFilter', backendName: BACKEND, kernelFunc: conv2DBackpropFilter as tf.KernelFunc },
  { kernelName: 'Conv2DBackpropInput', backendName: BACKEND, kernelFunc: conv2DBackpropInput as tf.KernelFunc },
  { kernelName: 'UnsortedSegmentSum', backendName: BACKEND, kernelFunc: unsortedSegmentSum as tf.KernelFunc },
  { kernelName: 'GatherV2', backendName: BACKEND, kernelFunc: gatherRows as tf.KernelFunc },
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

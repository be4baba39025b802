/**
 * Our networks against the PyTorch reference (fixtures written by scripts/pytorch-parity.py):
 * same weights and input → same logits, loss, every parameter gradient and updated running
 * statistics in training mode (mixing at layer k), and same logits, loss and gradients
 * (parameters and input) in eval mode. Every block type, the WRN variant, both stem strides,
 * on the cpu backend, on the wasm backend (with our training kernels) and on the onednn
 * backend where its addon is built (skipped with the reason otherwise; CI requires the addon
 * through test/runtime/native-kernels.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mixHidden, mixedTargets } from '../../src/mixup/mix.js';
import { updateRunningStats, type BatchStats } from '../../src/models/layers.js';
import { decodeNpz, type NpyArray } from '../../src/models/npz.js';
import { createModel } from '../../src/models/registry.js';
import { fromStateDict, toTorchLayout } from '../../src/models/state_dict.js';
import type { Model } from '../../src/models/model.js';
import { bceOnSoftmax } from '../../src/train/loss.js';
import { oneDnnAvailable } from '../../src/runtime/native-kernels.js';
import { packageRoot } from '../../src/runtime/paths.js';
import { tf, useBackend } from '../helpers/tf.js';

const DIR = join(packageRoot(), 'test', 'fixtures', 'parity');

interface TensorInfo {
  name: string;
  shape: number[];
  trainable: boolean;
}

interface FixtureConfig {
  file: string;
  name: string;
  arch: string;
  width: number;
  size: number;
  channels: number;
  classes: number;
  batch: number;
  final_bn: boolean;
  mix_layer: number;
  lam: number;
  tensors: TensorInfo[];
}

const index = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8')) as { configs: FixtureConfig[] };

/**
 * Relative tolerance per backend. The cpu backend accumulates sums in float64 (JS numbers):
 * its worst error against the float64 reference is 2.5e-5. The wasm backend (XNNPACK convs,
 * its reductions) accumulates in float32; on the 49-BatchNorm, 2-channel bottleneck network
 * that noise reaches 2.5e-4 in a few BN gradients (5e-6 on the other networks). oneDNN
 * likewise accumulates in float32.
 */
const RTOL = { cpu: 1e-4, wasm: 1e-3, onednn: 1e-3 } as const;
let rtol: number = RTOL.cpu;

/**
 * max |a − b| ≤ rtol · max |b| per tensor, plus an absolute floor for gradients that are
 * zero in exact arithmetic (a conv bias followed by training-mode BN) and float32 noise here.
 */
function assertClose(ours: ArrayLike<number>, ref: ArrayLike<number>, what: string, floor = 1e-7): void {
  assert.equal(ours.length, ref.length, `${what}: length`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i] - ref[i]));
    scale = Math.max(scale, Math.abs(ref[i]));
  }
  assert.ok(diff <= rtol * scale + floor, `${what}: max difference ${diff.toExponential(2)} at scale ${scale.toExponential(2)}`);
}

/** Splits a flat array into the listed tensors. */
function split(flat: Float32Array, infos: TensorInfo[]): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  let at = 0;
  for (const t of infos) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    out.set(t.name, flat.subarray(at, at + n));
    at += n;
  }
  assert.equal(at, flat.length, 'fixture layout');
  return out;
}

/** Int8 grid values k · 2^−e (exact in float32). */
function dequantize(k: Int8Array, e: number): Float32Array {
  const s = 2 ** -e;
  return Float32Array.from(k, (v) => v * s);
}

function loadFixture(cfg: FixtureConfig) {
  const arrays = decodeNpz(readFileSync(join(DIR, cfg.file)), cfg.file);
  const get = (k: string) => {
    const a = arrays.get(k);
    assert.ok(a, `${cfg.file}: no array ${k}`);
    return a;
  };
  const f32 = (k: string) => get(k).data as Float32Array;
  const exps = get('state_exp').data as Int8Array;
  const stateFlat = get('state').data as Int8Array;
  const state = new Map<string, NpyArray>();
  let at = 0;
  cfg.tensors.forEach((t, i) => {
    const n = t.shape.reduce((a, b) => a * b, 1);
    state.set(t.name, { shape: t.shape, data: dequantize(stateFlat.subarray(at, at + n), exps[i]) });
    at += n;
  });
  const x = get('x');
  return {
    state,
    x: { shape: x.shape, data: dequantize(x.data as Int8Array, (get('x_exp').data as Int8Array)[0]) },
    labels: get('labels').data as Int32Array,
    perm: get('perm').data as Int32Array,
    f32,
  };
}

function buildLoaded(cfg: FixtureConfig, fx: ReturnType<typeof loadFixture>): Model {
  const model = createModel(cfg.arch, { inputShape: [cfg.size, cfg.size, cfg.channels], classes: cfg.classes, width: cfg.width, finalBn: cfg.final_bn }, 0);
  const specs = cfg.tensors.map((t) => ({ name: t.name, torchShape: t.shape, trainable: t.trainable }));
  const tensors = fromStateDict(specs, fx.state, cfg.file);
  // Every reference tensor has a counterpart of ours under the same name, and vice versa.
  const ours = new Map([...model.params.trainable, ...model.params.buffers]);
  assert.deepEqual([...ours.keys()].sort(), [...tensors.keys()].sort());
  assert.deepEqual([...model.params.trainable.keys()], cfg.tensors.filter((t) => t.trainable).map((t) => t.name), 'trainable parameters in PyTorch order');
  for (const [name, t] of tensors) ours.get(name)!.assign(t);
  tf.dispose([...tensors.values()]);
  return model;
}

/** Our gradients by name, in PyTorch layout. */
function torchGrads(model: Model, grads: tf.NamedTensorMap): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [name, v] of model.params.trainable) {
    out.set(name, tf.tidy(() => toTorchLayout(grads[v.name])).dataSync() as Float32Array);
  }
  return out;
}

function checkConfig(cfg: FixtureConfig): void {
  const fx = loadFixture(cfg);
  const model = buildLoaded(cfg, fx);
  const n = cfg.batch;
  const trainable = cfg.tensors.filter((t) => t.trainable);
  try {
    const x = tf.tidy(() => tf.transpose(tf.tensor4d(fx.x.data, fx.x.shape as [number, number, number, number]), [0, 2, 3, 1])) as tf.Tensor4D;
    const labels = fx.labels;

    // Training mode, mixing at layer k with the fixture's λ and permutation.
    const s = { layer: cfg.mix_layer, lambda: cfg.lam, perm: fx.perm };
    const target = tf.tensor2d(mixedTargets(labels, cfg.classes, s), [n, cfg.classes]);
    const stats: BatchStats[] = [];
    let logits: tf.Tensor | undefined;
    const vars = [...model.params.trainable.values()];
    const train = tf.variableGrads(() => {
      const out = model.forward(x, { training: true, stats }, { layer: s.layer, apply: (h) => mixHidden(h, s) });
      logits = tf.keep(out);
      return bceOnSoftmax(out, target);
    }, vars);
    assertClose(logits!.dataSync(), fx.f32('train_logits'), `${cfg.name} train logits`);
    assertClose(train.value.dataSync(), fx.f32('train_loss'), `${cfg.name} train loss`);
    const refTrain = split(fx.f32('train_grads'), trainable);
    for (const [name, g] of torchGrads(model, train.grads)) assertClose(g, refTrain.get(name)!, `${cfg.name} train grad ${name}`);
    updateRunningStats(stats);
    const running = cfg.tensors.filter((t) => t.name.includes('.running_'));
    const refRunning = split(fx.f32('train_running'), running);
    for (const t of running) assertClose(model.params.buffers.get(t.name)!.dataSync(), refRunning.get(t.name)!, `${cfg.name} ${t.name}`);
    tf.dispose([logits!, train.value, ...Object.values(train.grads), target]);

    // Eval mode with those running statistics: plain targets, gradients of parameters and input.
    const xv = tf.variable(x);
    const onehot = tf.tensor2d(mixedTargets(labels, cfg.classes, null), [n, cfg.classes]);
    const ev = tf.variableGrads(() => {
      const out = model.forward(xv, { training: false });
      logits = tf.keep(out);
      return bceOnSoftmax(out, onehot);
    }, [...vars, xv]);
    assertClose(logits!.dataSync(), fx.f32('eval_logits'), `${cfg.name} eval logits`);
    assertClose(ev.value.dataSync(), fx.f32('eval_loss'), `${cfg.name} eval loss`);
    const refEval = split(fx.f32('eval_grads'), trainable);
    for (const [name, g] of torchGrads(model, ev.grads)) assertClose(g, refEval.get(name)!, `${cfg.name} eval grad ${name}`);
    const gx = tf.tidy(() => tf.transpose(ev.grads[xv.name], [0, 3, 1, 2]));
    assertClose(gx.dataSync(), fx.f32('eval_grad_input'), `${cfg.name} eval grad of the input`, 0);
    tf.dispose([logits!, ev.value, ...Object.values(ev.grads), onehot, xv, x, gx]);
  } finally {
    model.params.dispose();
  }
}

test('the fixtures cover every block type, the WRN variant, every mixing layer and both stem strides', () => {
  const archs = new Set(index.configs.map((c) => c.arch));
  for (const a of ['preactresnet18', 'preactresnet50', 'wrn28_2']) assert.ok(archs.has(a), a);
  assert.deepEqual([...new Set(index.configs.map((c) => c.mix_layer))].sort(), [0, 1, 2, 3]);
  assert.ok(index.configs.some((c) => c.size === 64) && index.configs.some((c) => c.size === 32));
  assert.ok(index.configs.some((c) => c.final_bn));
});

const noAddon = oneDnnAvailable() ? false : 'the oneDNN addon is not built (install libdnnl-dev, then npm install)';

for (const backend of ['cpu', 'wasm', 'onednn'] as const) {
  for (const cfg of index.configs) {
    const name = `${backend}: ${cfg.name} (${cfg.arch}, width ${cfg.width}, ${cfg.size}×${cfg.size}) matches PyTorch, training and eval mode`;
    test(name, { skip: backend === 'onednn' ? noAddon : false }, async () => {
      await useBackend(backend);
      rtol = RTOL[backend];
      checkConfig(cfg);
    });
  }
}

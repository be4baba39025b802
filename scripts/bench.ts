/**
 * Training speed on a CPU (a benchmark, not a test): images/s of a full PreActResNet18
 * training step (forward, BCE loss, backward, SGD with Nesterov momentum) on every backend
 * present, at widths 64 and 16, batches 32 and 100, without mixup and with manifold mixup;
 * the forward alone; peak RSS; tf.memory().numTensors before and after; the input pipeline;
 * numTensors over 1,000 steps. When PyTorch is installed (Debian python3-torch) the same
 * network and batch run in PyTorch (scripts/bench_torch.py) in the same invocation.
 *
 * Machines are noisy, shared ones very much so: each configuration runs our process and
 * PyTorch's side by side and alternates their steps (ours, theirs, ours, theirs, in both
 * orders), and every ratio is the median of such adjacent pairs. The manifold/none ratio
 * likewise alternates the two modes within one process.
 *
 *   node dist/scripts/bench.js                  # everything (about an hour on 2 busy cores)
 *   node dist/scripts/bench.js --quick          # batch 32 only, fewer rounds, no leak check
 *   node dist/scripts/bench.js --backends onednn --out results/bench/onednn.md
 *
 * Options: --quick; --backends a,b (default: onednn if built, then wasm); --widths a,b;
 * --batches a,b; --threads N (2; oneDNN, wasm and PyTorch alike); --rounds N (at least N rounds;
 * quick steps get up to 15); --no-torch;
 * --leak-steps N (1000, 0 skips);
 * --out FILE.md (also FILE.json). The pure-JS cpu backend is far too slow to train on (about
 * an hour a step at width 64): it appears only as a width-16 forward, and not with --quick.
 */
import { spawn, spawnSync, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { makeBatch, type Transform } from '../src/data/batches.js';
import { mixHidden, type MixupSettings } from '../src/mixup/mix.js';
import type { Model } from '../src/models/model.js';
import { createModel } from '../src/models/registry.js';
import { selectBackend, type BackendChoice } from '../src/runtime/backend.js';
import { writeFileAtomic } from '../src/runtime/files.js';
import { oneDnnAvailable } from '../src/runtime/native-kernels.js';
import { Rng } from '../src/runtime/rng.js';
import { registerWasmTrainingKernels } from '../src/runtime/wasm-kernels.js';
import { initWasmBackend } from '../src/runtime/wasm-threads.js';
import { planMicroBatch } from '../src/train/memory.js';
import { Sgd } from '../src/train/optimizer.js';
import { makeParts } from '../src/train/loop.js';
import { trainStep } from '../src/train/step.js';

type Mode = 'none' | 'manifold';
const MODES: Mode[] = ['none', 'manifold'];

const MIXUP: Record<Mode, MixupSettings> = {
  none: { mode: 'none', alpha: null, layers: [0] },
  manifold: { mode: 'manifold', alpha: 2, layers: [0, 1, 2] },
};

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function model(width: number): Model {
  return createModel('preactresnet18', { inputShape: [32, 32, 3], classes: 10, width, finalBn: false }, 0);
}

async function useBackend(backend: BackendChoice, threads: number) {
  // The wasm module's thread count is fixed when it starts; selectBackend then keeps it.
  if (backend === 'wasm') {
    registerWasmTrainingKernels();
    await initWasmBackend(threads);
  }
  return selectBackend(backend);
}

// ---------------------------------------------------------------------------------------
// Child processes.

/** Serves the protocol of scripts/bench_torch.py for one backend, width and batch. */
async function serve(backend: BackendChoice, width: number, batch: number, threads: number): Promise<void> {
  const info = await useBackend(backend, threads);
  const m = model(width);
  const rng = new Rng(1, 'bench');
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const micro = planMicroBatch(m, batch, 'auto', info.name);
  const opt = new Sgd(m.params.trainable, { momentum: 0.9, nesterov: true, weight_decay: 1e-4 });
  const tensorsBefore = tf.memory().numTensors;
  const reply = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
  reply({ ready: { backend: info.name, threads: info.threads, native: info.native, micro_batch: micro } });
  for await (const line of createInterface({ input: process.stdin })) {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'quit') {
      reply({ peak_rss_mb: process.resourceUsage().maxRSS / 1024, tensors_before: tensorsBefore, tensors_after: tf.memory().numTensors });
      break;
    }
    const t0 = performance.now();
    const c0 = cpuSeconds();
    if (cmd === 'step') {
      const r = trainStep(m, opt, makeParts(x, labels, micro, rng, MIXUP[arg as Mode]), 'bce', 0.1);
      if (!Number.isFinite(r.loss)) throw new Error(`loss ${r.loss}`);
    } else if (cmd === 'mixcost') {
      reply({ s: mixCost(m, x, batch, micro, rng) });
      continue;
    } else if (cmd === 'forward') {
      // Training mode (batch statistics), no gradient tape.
      tf.tidy(() => {
        m.forward(tf.tensor4d(x, [batch, 32, 32, 3]), { training: true }).dataSync();
      });
    } else {
      throw new Error(`unknown command ${line}`);
    }
    reply({ s: (performance.now() - t0) / 1000, cpu: cpuSeconds() - c0 });
  }
}

/**
 * Seconds that manifold mixing adds to a step, measured directly: forward and backward of the
 * mix alone on the hidden state of each eligible boundary, minus the same computation without
 * it (median of alternating pairs), averaged over the boundaries (k is uniform), times the
 * micro-batches. Far less noisy than the difference of two whole steps.
 */
function mixCost(m: Model, x: Float32Array, batch: number, micro: number, rng: Rng): number {
  const [h0, w0, c0] = m.inputShape;
  const shapes: number[][] = [];
  tf.tidy(() => {
    const points = MIXUP.manifold.layers.map((layer) => ({ layer, apply: (h: tf.Tensor4D) => (shapes.push(h.shape), h) }));
    m.forward(tf.tensor4d(x.subarray(0, micro * h0 * w0 * c0), [micro, h0, w0, c0]), { training: false }, points);
  });
  const costs = shapes.map((shape) => {
    const [h, w] = [tf.randomNormal(shape), tf.randomNormal(shape)];
    const s = { layer: 0, lambda: 0.3, perm: rng.permutation(micro) };
    const once = (mix: boolean) => {
      const t0 = performance.now();
      tf.tidy(() => {
        tf.grad((v: tf.Tensor) => tf.sum(tf.mul(mix ? mixHidden(v, s) : v, w)))(h).dataSync();
      });
      return performance.now() - t0;
    };
    const extra: number[] = [];
    for (let r = -2; r < 21; r++) {
      const first = once(r % 2 === 0);
      const second = once(r % 2 !== 0);
      if (r >= 0) extra.push(r % 2 === 0 ? first - second : second - first);
    }
    tf.dispose([h, w]);
    return median(extra) / 1000;
  });
  return (Math.ceil(batch / micro) * costs.reduce((a, b) => a + b, 0)) / costs.length;
}

/** `steps` steps at a tiny width, numTensors before and after: the leak check. */
async function leak(backend: BackendChoice, steps: number, threads: number): Promise<void> {
  const info = await useBackend(backend, threads);
  const m = model(4);
  const rng = new Rng(2, 'bench');
  const batch = 8;
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 10);
  const opt = new Sgd(m.params.trainable, { momentum: 0.9, nesterov: true, weight_decay: 1e-4 });
  const step = (micro: number) => trainStep(m, opt, makeParts(x, labels, micro, rng, MIXUP.manifold), 'bce', 0.1);
  const before = tf.memory().numTensors;
  const t0 = performance.now();
  // Alternate whole batches and two micro-batches so both paths of trainStep are covered.
  for (let i = 0; i < steps; i++) step(i % 2 ? batch / 2 : batch);
  const out = { backend: info.name, steps, tensors_before: before, tensors_after: tf.memory().numTensors, seconds: (performance.now() - t0) / 1000 };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

// ---------------------------------------------------------------------------------------
// Parent.

const self = fileURLToPath(import.meta.url);
const TORCH_SCRIPT = path.join(path.dirname(self), '..', '..', 'scripts', 'bench_torch.py');

type Timing = { s: number; cpu: number };
const MAX_ROUNDS = 15;

/** A child speaking the line protocol: one JSON reply per command. */
class Server {
  private readonly lines: AsyncIterator<string>;
  private readonly proc: ChildProcessWithoutNullStreams;
  private stderr = '';
  ready: Record<string, unknown> = {};

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv) {
    this.proc = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    this.lines = createInterface({ input: this.proc.stdout })[Symbol.asyncIterator]();
  }

  async read<T>(): Promise<T> {
    for (;;) {
      const r = await this.lines.next();
      if (r.done) throw new Error(`child exited: ${this.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      if (r.value.startsWith('{')) return JSON.parse(r.value) as T;
    }
  }

  async start(): Promise<this> {
    this.ready = (await this.read<{ ready: Record<string, unknown> }>()).ready;
    return this;
  }

  async ask<T = Timing>(cmd: string): Promise<T> {
    this.proc.stdin.write(`${cmd}\n`);
    return this.read<T>();
  }

  kill(): void {
    this.proc.kill();
  }
}

/** A python3 that has torch, or null. */
function findTorchPython(): string | null {
  for (const py of [process.env['BENCH_PYTHON'], 'python3', '/usr/bin/python3'].filter(Boolean) as string[]) {
    if (spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

interface ModeFigures {
  step_s: number;
  cpu_s: number;
  images_per_s: number;
}

interface Row {
  backend: string;
  threads: number;
  native: string[];
  width: number;
  batch: number;
  micro_batch: number;
  ours: Partial<Record<Mode, ModeFigures>>;
  forward_s: number;
  peak_rss_mb: number;
  tensors_before: number;
  tensors_after: number;
  torch: { ours: Partial<Record<Mode, ModeFigures>>; forward_s: number; peak_rss_mb: number } | null;
  /** Medians over adjacent pairs: our images/s over PyTorch's, per mode; forward likewise. */
  vs_torch: Partial<Record<Mode | 'forward', number>>;
  /** Median over adjacent pairs in our process of manifold step time / no-mixup step time. */
  manifold_over_none: number;
  torch_manifold_over_none: number | null;
  /** Seconds the mix itself adds to a step (mixCost). */
  mix_s: number;
  error?: string;
}

async function measure(
  backend: BackendChoice, width: number, batch: number, opts: { threads: number; rounds: number; forwardOnly: boolean; py: string | null },
): Promise<Row> {
  const env = { ...process.env, OMP_NUM_THREADS: String(opts.threads) };
  const ours = await new Server(process.execPath, [self, 'serve', backend, String(width), String(batch), String(opts.threads)], env).start();
  const torch = opts.py ? await new Server(opts.py, [TORCH_SCRIPT, '--width', String(width), '--batch', String(batch), '--threads', String(opts.threads)], env).start() : null;
  try {
    const times: Record<'ours' | 'torch', Record<Mode | 'forward', Timing[]>> = {
      ours: { none: [], manifold: [], forward: [] },
      torch: { none: [], manifold: [], forward: [] },
    };
    const pair = async (cmd: string, key: Mode | 'forward', round: number, record: boolean) => {
      // Alternate who goes first so that a trend in the load favours neither.
      const order = round % 2 ? ([['torch', torch], ['ours', ours]] as const) : ([['ours', ours], ['torch', torch]] as const);
      for (const [who, srv] of order) {
        if (!srv) continue;
        const t = await srv.ask(cmd);
        if (record) times[who][key].push(t);
      }
    };
    if (!opts.forwardOnly) {
      // Round -1 warms up (and its step time sets how many rounds fit in about 30 s per mode:
      // quick steps are noisier, so they get more rounds).
      let rounds = opts.rounds;
      for (let r = -1; r < rounds; r++) {
        for (const mode of r % 2 ? MODES : [...MODES].reverse()) await pair(`step ${mode}`, mode, r, r >= 0);
        if (r === -1) {
          const warm = await ours.ask('step none');
          rounds = Math.max(opts.rounds, Math.min(MAX_ROUNDS, Math.ceil(30 / warm.s)));
        }
      }
    }
    for (let r = -1; r < Math.max(2, opts.rounds); r++) await pair('forward', 'forward', r, r >= 0);
    const mixS = opts.forwardOnly ? NaN : (await ours.ask<{ s: number }>('mixcost')).s;
    const end = await ours.ask<{ peak_rss_mb: number; tensors_before: number; tensors_after: number }>('quit');
    const tEnd = torch ? await torch.ask<{ peak_rss_mb: number }>('quit') : null;

    const figures = (list: Record<Mode | 'forward', Timing[]>) => {
      const out: Partial<Record<Mode, ModeFigures>> = {};
      for (const mode of MODES) {
        if (list[mode].length === 0) continue;
        const s = median(list[mode].map((t) => t.s));
        out[mode] = { step_s: s, cpu_s: median(list[mode].map((t) => t.cpu)), images_per_s: batch / s };
      }
      return out;
    };
    const pairedRatio = (key: Mode | 'forward') =>
      torch ? median(times.ours[key].map((t, i) => times.torch[key][i].s / t.s)) : NaN;
    const modeRatio = (list: Record<Mode | 'forward', Timing[]>) => median(list.manifold.map((t, i) => t.s / list.none[i].s));
    const r = ours.ready as { backend: string; threads: number; native: string[]; micro_batch: number };
    return {
      backend: r.backend,
      threads: r.threads,
      native: r.native,
      width,
      batch,
      micro_batch: r.micro_batch,
      ours: figures(times.ours),
      forward_s: median(times.ours.forward.map((t) => t.s)),
      peak_rss_mb: end.peak_rss_mb,
      tensors_before: end.tensors_before,
      tensors_after: end.tensors_after,
      torch: torch
        ? { ours: figures(times.torch), forward_s: median(times.torch.forward.map((t) => t.s)), peak_rss_mb: tEnd!.peak_rss_mb }
        : null,
      vs_torch: { none: pairedRatio('none'), manifold: pairedRatio('manifold'), forward: pairedRatio('forward') },
      manifold_over_none: opts.forwardOnly ? NaN : modeRatio(times.ours),
      torch_manifold_over_none: torch && !opts.forwardOnly ? modeRatio(times.torch) : null,
      mix_s: mixS,
    };
  } finally {
    ours.kill();
    torch?.kill();
  }
}

/** Images/s of the input pipeline (crop with padding 4, flip, normalize) on random 32×32×3 bytes. */
function inputPipeline(batch: number): number {
  const n = 5000;
  const rng = new Rng(3, 'bench');
  const images = Uint8Array.from({ length: n * 32 * 32 * 3 }, () => rng.int(256));
  const split = { images, labels: new Uint8Array(n), n };
  const t: Transform = { shape: [32, 32, 3], mean: [0.49, 0.48, 0.45], std: [0.25, 0.24, 0.26], cropPadding: 4, flip: true };
  const order = rng.permutation(n);
  let i = 0;
  const one = () => {
    if (i + batch > n) i = 0;
    makeBatch(split, order.subarray(i, i + batch), t, rng);
    i += batch;
  };
  for (let k = 0; k < 20; k++) one();
  const times: number[] = [];
  for (let rep = 0; rep < 5; rep++) {
    const t0 = performance.now();
    for (let k = 0; k < 40; k++) one();
    times.push((40 * batch) / ((performance.now() - t0) / 1000));
  }
  return median(times);
}

function machine(): string {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return `(${cmd} unavailable)`;
    }
  };
  const lscpu = sh('lscpu', [])
    .split('\n')
    .filter((l) => /^(Architecture|CPU\(s\)|Model name|Thread|Core|Socket|L1d|L2|L3|Flags)/.test(l))
    .map((l) => (l.startsWith('Flags') ? `Flags (SIMD): ${(l.match(/\b(avx\S*|amx\S*|fma)\b/g) ?? []).join(' ')}` : l.replace(/\s+/g, ' ')))
    .join('\n');
  return [
    lscpu,
    `Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `Node ${process.version}, TensorFlow.js ${tf.version_core}, ${os.type()} ${os.release()}`,
  ].join('\n');
}

const fmt = (v: number | null | undefined, d = 2) => (v == null || !Number.isFinite(v) ? '—' : v.toFixed(d));
const loadavg = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');

async function parent(argv: string[]): Promise<void> {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const threads = Number(value('--threads') ?? 2);
  const rounds = Number(value('--rounds') ?? (quick ? 3 : 5));
  const backends = (value('--backends')?.split(',') ?? [...(oneDnnAvailable() ? ['onednn'] : []), 'wasm']) as BackendChoice[];
  const leakSteps = Number(value('--leak-steps') ?? (quick ? 0 : 1000));
  const out = value('--out');
  const py = argv.includes('--no-torch') ? null : findTorchPython();
  const lines: string[] = [];
  const say = (s = '') => {
    console.log(s);
    lines.push(s);
  };

  say(`# Training speed on a CPU: \`node dist/scripts/bench.js ${argv.join(' ')}\``);
  say();
  say(`Started ${new Date().toISOString()}, load average ${loadavg()} (1, 5, 15 min).`);
  say();
  say('```');
  say(machine());
  say(py ? `PyTorch: ${py}, ${threads} thread(s)` : 'PyTorch: not found, no ratios');
  say('```');
  say();
  say(`PreActResNet18 on random 32×32×3 data, ${threads} thread(s) everywhere. Step = forward, BCE on softmax, backward, SGD (Nesterov);`);
  say(`manifold mixes at a random boundary in {0, 1, 2}. Times are medians over ${rounds >= MAX_ROUNDS ? rounds : `${rounds} to ${MAX_ROUNDS}`} rounds${rounds >= MAX_ROUNDS ? '' : ' (more for quicker steps)'}; "÷ PyTorch" columns are medians of`);
  say('the ratios of adjacent steps (ours and PyTorch alternating), which is what to trust on a busy machine. CPU s is the');
  say('process CPU time per step (all threads): on an oversubscribed machine the wall time of 2-thread code inflates more.');
  say();
  say('| backend | thr | width | batch | micro | mode | step s | CPU s (PyTorch) | img/s | PyTorch img/s | img/s ÷ PyTorch | manifold ÷ none | fwd s | fwd ÷ PyTorch | RSS MB | RSS ÷ PyTorch | tensors |');
  say('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');

  const rows: Row[] = [];
  const configs: Array<[number, number]> = [];
  const widths = value('--widths')?.split(',').map(Number) ?? [64, 16];
  const batches = value('--batches')?.split(',').map(Number) ?? (quick ? [32] : [32, 100]);
  for (const width of widths) for (const batch of batches) configs.push([width, batch]);
  const print = (r: Row, forwardOnly: boolean) => {
    if (r.error) {
      say(`| ${r.backend} | | ${r.width} | ${r.batch} | | | failed: ${r.error} |`);
      return;
    }
    for (const mode of forwardOnly ? (['none'] as Mode[]) : MODES) {
      const o = r.ours[mode];
      const t = r.torch?.ours[mode];
      const first = mode === 'none';
      say(
        `| ${r.backend} | ${r.threads} | ${r.width} | ${r.batch} | ${r.micro_batch} | ${forwardOnly ? 'forward only' : mode} | ${fmt(o?.step_s, 3)} | ${fmt(o?.cpu_s, 2)} (${fmt(t?.cpu_s, 2)}) | ` +
          `${fmt(o?.images_per_s, 1)} | ${fmt(t?.images_per_s, 1)} | ${fmt(r.vs_torch[mode], 3)} | ${first ? '' : `${fmt(r.manifold_over_none, 3)} (PyTorch ${fmt(r.torch_manifold_over_none, 3)})`} | ` +
          `${first ? fmt(r.forward_s, 3) : ''} | ${first ? fmt(r.vs_torch.forward, 3) : ''} | ${first ? fmt(r.peak_rss_mb, 0) : ''} | ` +
          `${first && r.torch ? fmt(r.peak_rss_mb / r.torch.peak_rss_mb, 2) : ''} | ${first ? `${r.tensors_before}→${r.tensors_after}` : ''} |`,
      );
    }
  };
  const run = async (backend: BackendChoice, width: number, batch: number, forwardOnly: boolean) => {
    let row: Row;
    try {
      row = await measure(backend, width, batch, { threads, rounds: forwardOnly ? 1 : rounds, forwardOnly, py });
    } catch (e) {
      row = { backend, width, batch, error: (e as Error).message } as Row;
    }
    rows.push(row);
    print(row, forwardOnly);
  };
  for (const [width, batch] of configs) for (const backend of backends) await run(backend, width, batch, false);
  if (!quick && !value('--backends')) await run('cpu', 16, 32, true);
  say();
  say('cpu (pure JS) appears only as a width-16 forward: a width-64 training step takes about an hour on it.');

  say();
  const pipe = Object.fromEntries((quick ? [32] : [32, 100]).map((b) => [b, inputPipeline(b)])) as Record<number, number>;
  say(`Input pipeline (src/data/batches.ts makeBatch: crop 4, flip, normalize, one thread): ${Object.entries(pipe).map(([b, v]) => `batch ${b}: ${fmt(v, 0)} img/s`).join(', ')}.`);

  const leaks: Array<Record<string, number | string>> = [];
  if (leakSteps > 0) {
    say();
    for (const backend of backends) {
      const r = spawnSync(process.execPath, [self, 'leak', backend, String(leakSteps), String(threads)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
      const last = r.stdout.trim().split('\n').pop() ?? '';
      if (r.status === 0 && last.startsWith('{')) {
        const l = JSON.parse(last) as { backend: string; steps: number; tensors_before: number; tensors_after: number; seconds: number };
        leaks.push(l);
        say(`Leak check, ${l.backend}: ${l.steps} manifold-mixup steps at width 4, batch 8 (every other one in 2 micro-batches): numTensors ${l.tensors_before} → ${l.tensors_after} (${fmt(l.seconds, 0)} s).`);
      } else {
        leaks.push({ backend, error: r.stderr.slice(-500) });
        say(`Leak check, ${backend}: failed: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      }
    }
  }

  say();
  say('## Targets (issue 8)');
  const ok = rows.filter((r) => !r.error && r.ours.none);
  for (const backend of [...new Set(ok.map((r) => r.backend))]) {
    const base = ok.find((r) => r.backend === backend && r.width === 64 && r.batch === 32);
    const aim = backend === 'wasm' ? 0.15 : 0.5;
    if (base?.torch) {
      say(`- ${backend}: width 64, batch 32 step at ${fmt(base.vs_torch.none, 3)}× PyTorch's images/s (target ≥ ${aim}×); with manifold mixup ${fmt(base.vs_torch.manifold, 3)}×.`);
      say(`- ${backend}: width 64, batch 32 peak RSS ${fmt(base.peak_rss_mb / base.torch.peak_rss_mb, 2)}× PyTorch's (target ≤ 2×).`);
    }
    const mine = ok.filter((r) => r.backend === backend);
    say(`- ${backend}: manifold step ÷ no-mixup step, whole steps alternating: ${mine.map((r) => `${fmt(r.manifold_over_none, 3)} (w${r.width} b${r.batch})`).join(', ')} (target ≤ 1.03).`);
    say(
      `- ${backend}: the same from the mix's own cost (forward and backward at each boundary, averaged): ` +
        `${mine.map((r) => `${fmt(1 + r.mix_s / r.ours.none!.step_s, 3)} (${fmt(r.mix_s * 1000, 1)} ms, w${r.width} b${r.batch})`).join(', ')}.`,
    );
    const best = Math.max(...ok.filter((r) => r.backend === backend).map((r) => r.ours.none!.images_per_s));
    say(`- ${backend}: input pipeline ${fmt(Math.min(...Object.values(pipe)) / best, 0)}× the model's best images/s (target ≥ 20×).`);
    const moved = ok.filter((r) => r.backend === backend && r.tensors_after !== r.tensors_before);
    say(`- ${backend}: numTensors unchanged over each configuration's steps: ${moved.length === 0 ? 'yes' : `NO (${moved.map((r) => `w${r.width} b${r.batch}`).join(', ')})`}.`);
  }
  for (const l of leaks) if (!('error' in l)) say(`- ${l['backend']}: numTensors ${l['tensors_before']} → ${l['tensors_after']} over ${l['steps']} steps (target: unchanged).`);
  say();
  say(`Finished ${new Date().toISOString()}, load average ${loadavg()}.`);

  if (out) {
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileAtomic(out, `${lines.join('\n')}\n`);
    writeFileAtomic(`${out.replace(/\.md$/, '')}.json`, `${JSON.stringify({ argv, threads, rounds, rows, input_pipeline: pipe, leaks }, null, 2)}\n`);
  }
}

const args = process.argv.slice(2);
if (args[0] === 'serve') {
  await serve(args[1] as BackendChoice, Number(args[2]), Number(args[3]), Number(args[4] ?? 2));
} else if (args[0] === 'leak') {
  await leak(args[1] as BackendChoice, Number(args[2]), Number(args[3] ?? 2));
} else {
  await parent(args);
}

/**
 * Backend selection. The native TensorFlow backends (@tensorflow/tfjs-node-gpu, -node) are
 * optional dependencies, loaded when installed. Next comes 'onednn': the cpu backend with
 * native oneDNN kernels from the optional addon in src/native/onednn (native-kernels.ts),
 * present when libdnnl-dev was there at install time. Otherwise training runs on the wasm
 * backend, multithreaded (wasm-threads.ts), with our kernels for what it lacks
 * (wasm-kernels.ts). The pure-JS cpu backend is a correctness oracle for tiny tests, far too
 * slow to train on. `auto` takes the first of these that is present and works, which is
 * also the fastest: oneDNN beats threaded wasm at every size measured on 2 cores, from the
 * smoke configs' width-2 PreActResNet18 (about 2×) to width 64 (3.4×; results/bench/).
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { UsageError } from './errors.js';
import os from 'node:os';
import { ONEDNN_BACKEND, ONEDNN_KERNELS, oneDnnInfo, registerOneDnnBackend } from './native-kernels.js';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels.js';
import { initWasmBackend } from './wasm-threads.js';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'onednn' | 'wasm' | 'cpu';

/**
 * wasm threads: one per core, at most 8 (the pthread workers Emscripten starts up front; more
 * would have to start while the main thread blocks).
 */
const WASM_THREADS = Math.min(8, os.availableParallelism());

export interface BackendInfo {
  /** What the user can pass to --backend to get this again. */
  name: Exclude<BackendChoice, 'auto'>;
  /** TensorFlow.js's own name for the active backend. */
  tfjs_backend: string;
  /** Package that provides it and its version. */
  package: string;
  version: string;
  tfjs_core_version: string;
  /** Kernels of ours registered on top of the backend. */
  custom_kernels: string[];
  /** Threads the heavy kernels run on (XNNPACK's pool on wasm, OpenMP under oneDNN). */
  threads: number;
  /** Native libraries behind custom_kernels, with versions, e.g. "oneDNN 2.6.3". */
  native: string[];
}

const NATIVE = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

/** Imports a native backend package; null when it is not installed or fails to load. */
async function tryNative(pkg: string): Promise<{ version: string } | null> {
  try {
    // A variable specifier keeps TypeScript from requiring the optional package's types.
    const mod = (await import(pkg)) as { version?: Record<string, string> };
    return { version: mod.version?.['tfjs-node'] ?? tf.version_core };
  } catch {
    return null;
  }
}

let active: BackendInfo | undefined;

/** The backend chosen by the last `selectBackend`, if any. */
export function activeBackend(): BackendInfo | undefined {
  return active;
}

export async function selectBackend(choice: BackendChoice): Promise<BackendInfo> {
  // Production mode: no console banners from tfjs (library code never prints).
  tf.enableProdMode();
  const info = await pick(choice);
  active = info;
  return info;
}

async function pick(choice: BackendChoice): Promise<BackendInfo> {
  const base = { tfjs_core_version: tf.version_core, custom_kernels: [] as string[], threads: 1, native: [] as string[] };
  for (const name of ['tensorflow-gpu', 'tensorflow'] as const) {
    if (choice !== 'auto' && choice !== name) continue;
    const native = await tryNative(NATIVE[name]);
    if (native && (await tf.setBackend('tensorflow'))) {
      await tf.ready();
      return { ...base, name, tfjs_backend: 'tensorflow', package: NATIVE[name], version: native.version };
    }
    if (choice === name) {
      throw new UsageError(
        `--backend ${name}: ${NATIVE[name]} is not installed or failed to load. ` +
          'Install it (see README, "GPU set-up") or use --backend wasm.',
      );
    }
  }
  if (choice === 'auto' || choice === 'onednn') {
    if (registerOneDnnBackend() && (await tf.setBackend(ONEDNN_BACKEND))) {
      await tf.ready();
      const info = oneDnnInfo()!;
      return {
        ...base, name: 'onednn', tfjs_backend: ONEDNN_BACKEND, package: 'mixup-run-onednn', version: info.package_version,
        custom_kernels: [...ONEDNN_KERNELS], threads: info.threads, native: [`oneDNN ${info.version}`],
      };
    }
    if (choice === 'onednn') {
      throw new UsageError(
        '--backend onednn: the native addon mixup-run-onednn is not built. Install libdnnl-dev ' +
          '(Debian/Ubuntu: apt-get install libdnnl-dev) and run npm install again (see README, "CPU speed"), or use --backend wasm.',
      );
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    registerWasmTrainingKernels();
    const kernels = [...WASM_TRAINING_KERNELS];
    try {
      const threads = await initWasmBackend(WASM_THREADS);
      return { ...base, name: 'wasm', tfjs_backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: version_wasm, custom_kernels: kernels, threads };
    } catch (e) {
      if (choice === 'wasm') throw new UsageError(`--backend wasm: the WebAssembly backend failed to initialise (${(e as Error).message}); try --backend cpu for tiny runs`);
    }
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { ...base, name: 'cpu', tfjs_backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: tf.version_core };
}

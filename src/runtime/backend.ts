/**
 * Backend selection. The native TensorFlow backends (@tensorflow/tfjs-node-gpu, -node) are
 * optional dependencies, loaded when installed; otherwise training runs on the wasm backend
 * with our kernels for what it lacks (wasm-kernels.ts). The pure-JS cpu backend is a
 * correctness oracle for tiny tests, far too slow to train on.
 */
import * as tf from '@tensorflow/tfjs';
import { version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { UsageError } from './errors.js';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './wasm-kernels.js';

export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

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
  const base = { tfjs_core_version: tf.version_core, custom_kernels: [] as string[] };
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
  if (choice === 'auto' || choice === 'wasm') {
    registerWasmTrainingKernels();
    const kernels = [...WASM_TRAINING_KERNELS];
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return { ...base, name: 'wasm', tfjs_backend: 'wasm', package: '@tensorflow/tfjs-backend-wasm', version: version_wasm, custom_kernels: kernels };
    }
    if (choice === 'wasm') throw new UsageError('--backend wasm: the WebAssembly backend failed to initialise; try --backend cpu for tiny runs');
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { ...base, name: 'cpu', tfjs_backend: 'cpu', package: '@tensorflow/tfjs-backend-cpu', version: tf.version_core };
}

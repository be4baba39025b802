/**
 * Multithreaded wasm under Node.
 *
 * tfjs-backend-wasm ships a threaded-SIMD build but never uses it in Node: its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is false there, it gives Emscripten a `blob:` URL for the
 * pthread worker script (worker_threads cannot start one), the worker then tries to load the
 * module's glue from another `blob:` URL, and the C++ side caps XNNPACK's pool at half the
 * logical cores (1 on a 2-core machine). This module starts the wasm backend with threads by
 * going around each of those from the outside, without touching the installed package:
 *
 *  - the flag is set to true before the backend initialises;
 *  - the worker script (the package's own, from wasm-out/) is written to a real file, with a
 *    two-line tail that points its `load` message at the threaded-SIMD glue on disk;
 *  - while the backend initialises, `URL.createObjectURL` answers that file's path and
 *    `os.cpus()` lists every core twice, so the requested thread count is not halved.
 *
 * Both patches are undone as soon as initialisation ends. Threads share one 4 GiB heap; when it
 * runs out a thread aborts and the main thread waits forever, so the caller must keep every
 * step well inside the heap (src/train/memory.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

/** The package's wasm-out folder (worker script and glue of the threaded build). */
function wasmOutDir(): string {
  return path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'wasm-out');
}

/**
 * Writes the pthread worker script once per content (named by its hash, so concurrent
 * processes agree) and returns its path. CommonJS (.cjs), as Emscripten's worker expects.
 */
function workerScript(): string {
  const dir = wasmOutDir();
  const { wasmWorkerContents } = require(path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  const glue = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  // The script is minified onto one line; its only newlines sit inside string literals.
  const source =
    `${wasmWorkerContents.replace(/\n/g, '\\n')}\n` +
    `;(function(){var onLoad=self.onmessage;self.onmessage=function(e){` +
    `if(e.data&&e.data.cmd==="load")e.data.urlOrBlob=${JSON.stringify(glue)};return onLoad(e)}})();\n`;
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const file = path.join(os.tmpdir(), `mixup-run-wasm-pthread-${hash}.cjs`);
  if (!existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, file);
  }
  return file;
}

/** Whether the wasm backend has already been initialised in this process. */
export function wasmInitialised(): boolean {
  return tf.engine().registry['wasm'] != null;
}

/**
 * Initialises the wasm backend with `threads` XNNPACK threads (1 = the single-threaded SIMD
 * build) and makes it active. Returns the thread count in effect: the earlier one when the
 * backend was already initialised (a module's build cannot change in a process), 1 when the
 * threaded build fails to start.
 */
export async function initWasmBackend(threads: number): Promise<number> {
  if (wasmInitialised() || threads <= 1) {
    if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
    await tf.ready();
    return Math.max(1, getThreadsCount());
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  const worker = workerScript();
  const createObjectURL = URL.createObjectURL;
  const cpus = os.cpus;
  URL.createObjectURL = () => worker;
  os.cpus = () => [...cpus(), ...cpus()];
  let started: boolean;
  try {
    started = await tf.setBackend('wasm');
  } finally {
    URL.createObjectURL = createObjectURL;
    os.cpus = cpus;
  }
  if (!started) {
    // The backend's factory starts a fresh module on each attempt: fall back to one thread.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    setThreadsCount(1);
    return initWasmBackend(1);
  }
  await tf.ready();
  // XNNPACK's pool threads run for the life of the module; like the idle pool workers they
  // must not keep the process alive once the program is done. The idle workers (Emscripten
  // starts 8) are never used after this point, since XNNPACK creates its pool once, at
  // initialisation: ending them returns about 12 MB each.
  type Worker = { unref(): void; terminate(): void };
  const pthreads = (tf.backend() as unknown as { wasm: { PThread?: { runningWorkers: Worker[]; unusedWorkers: Worker[] } } }).wasm.PThread;
  for (const w of pthreads?.runningWorkers ?? []) w.unref();
  for (const w of pthreads?.unusedWorkers.splice(0) ?? []) void w.terminate();
  return getThreadsCount();
}

/** Threads the wasm backend uses (1 when single-threaded or not initialised). */
export function wasmThreads(): number {
  return wasmInitialised() ? Math.max(1, getThreadsCount()) : 1;
}

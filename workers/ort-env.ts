// Where the model worker's onnxruntime-web finds its wasm: the app's own origin (Vite serves the package's
// files in dev and emits them as hashed assets in a build), never a CDN. Threads need SharedArrayBuffer,
// which only a cross-origin-isolated page has (vite.config.ts sends COOP/COEP).
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import type { OrtOptions } from '../src/core/sim/float/ort';
import type { FolderPort, FolderReply } from '../src/core/quant/calibrate/folder';

export function workerOrtOptions(): OrtOptions {
  // The same module runs under Node in the unit tests, where `#ort` is onnxruntime's node build and
  // loads its wasm from the package itself.
  if (typeof process !== 'undefined' && process.versions?.node) return { threads: 1 };
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return {
    wasmPaths: { wasm: wasmUrl, mjs: mjsUrl },
    threads: isolated ? Math.max(1, navigator.hardwareConcurrency || 1) : 1,
  };
}

/**
 * A thread for the calibration statistics (QuantOptions.foldThread) where the page is cross-origin
 * isolated on a machine with 2+ cores (the machine is ours to use, as for wasm threads); else none, and
 * they fold between onnxruntime's runs. Under Node (the unit tests) none either.
 */
export function workerFoldThread(): (() => FolderPort) | undefined {
  if (typeof process !== 'undefined' && process.versions?.node) return undefined;
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  if (!isolated || (navigator.hardwareConcurrency || 1) < 2 || typeof Worker === 'undefined') return undefined;
  return () => {
    const w = new Worker(new URL('./fold.worker.ts', import.meta.url), { type: 'module', name: 'calib-stats' });
    return {
      post: (m, transfer) => w.postMessage(m, transfer),
      onMessage: (f) => { w.onmessage = (e: MessageEvent<FolderReply>) => f(e.data); },
      onError: (f) => { w.onerror = (e) => { e.preventDefault(); f(new Error(e.message || 'the statistics worker failed to start')); }; },
      terminate: () => w.terminate(),
    };
  };
}

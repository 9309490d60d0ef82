// Where the model worker's onnxruntime-web finds its wasm: the app's own origin (Vite serves the package's
// files in dev and emits them as hashed assets in a build), never a CDN. Threads need SharedArrayBuffer,
// which only a cross-origin-isolated page has (vite.config.ts sends COOP/COEP).
import wasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import mjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';
import type { OrtOptions } from '../src/core/sim/float/ort';

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

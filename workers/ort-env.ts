// Where onnxruntime-web's wasm runtime is served from in the app: Vite copies both files into the build
// and hands back their URLs, so a worker never fetches them from a CDN (the app makes no foreign requests).
import wasm from 'onnxruntime-web/ort-wasm-simd-threaded.wasm?url';
import mjs from 'onnxruntime-web/ort-wasm-simd-threaded.mjs?url';

export const ortWasmPaths: { readonly wasm: string; readonly mjs: string } = { wasm, mjs };

// The project's AssemblyScript modules are embedded as base64 (`*.gen.ts`, written by scripts/build-wasm.ts)
// so that core loads them the same way in Node, workers and tests, with no fetch and no bundler asset.

/** The bytes of an embedded module. */
export function wasmBytes(base64: string): Uint8Array<ArrayBuffer> {
  const s = atob(base64);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

/** A synchronous instance of an embedded module that imports nothing (small modules only: the main thread may refuse big ones). */
export function instantiateEmbedded<E>(base64: string): E {
  return new WebAssembly.Instance(new WebAssembly.Module(wasmBytes(base64)), {}).exports as unknown as E;
}

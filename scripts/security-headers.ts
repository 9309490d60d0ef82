// The HTTP headers the app is served with: one list for `vite` (dev), `vite preview` and the docs on
// static hosting (README "Hosting"). The app talks to nothing but its own origin, so the policy is
// 'self' everywhere; WebAssembly (onnxruntime-web, our int8 kernels, h5wasm) needs 'wasm-unsafe-eval',
// never 'unsafe-eval'. Downloads are blob: URLs clicked in an <a download>, which CSP does not govern;
// style-src keeps 'unsafe-inline' because @xyflow/react and React set style attributes on the graph.
import type { Connect, Plugin } from 'vite';

/**
 * `worker`: the policy of a worker script (a worker runs under the policy its own script was served
 * with). The same as the page's: the .xmodel codec is static protobuf code (xir.gen.js), so nothing in
 * the workers needs 'unsafe-eval' either.
 */
export function contentSecurityPolicy(dev: boolean, worker = false): string {
  return [
    "default-src 'self'",
    // Vite's dev server injects React Refresh's inline preamble; the built app has no inline script.
    `script-src 'self' 'wasm-unsafe-eval'${dev ? " 'unsafe-inline'" : ''}`,
    "worker-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

// COOP/COEP make the page cross-origin isolated, so onnxruntime-web can use SharedArrayBuffer threads.
export function securityHeaders(dev: boolean, worker = false): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(dev, worker),
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
  };
}

/** Model and data files have no registered type; served as bytes, never sniffed into something else. */
export const FILE_TYPES: Readonly<Record<string, string>> = {
  '.onnx': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.npz': 'application/zip',
  '.xmodel': 'application/octet-stream',
  '.tflite': 'application/octet-stream',
  '.h5': 'application/x-hdf5',
  '.keras': 'application/zip',
  '.wasm': 'application/wasm',
};

function middleware(dev: boolean): Connect.NextHandleFunction {
  const page = securityHeaders(dev);
  const worker = securityHeaders(dev, true);
  return (req, res, next) => {
    // Browsers say what a request is for; a worker's script (and the modules it imports) is 'worker'/'script' from a worker.
    const headers = req.headers['sec-fetch-dest'] === 'worker' ? worker : page;
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    const path = (req.url ?? '').split('?')[0]!.toLowerCase();
    const ext = path.slice(path.lastIndexOf('.'));
    const type = FILE_TYPES[ext];
    if (type) {
      // sirv (the static handler behind both servers) would set its own guess afterwards; keep ours.
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) =>
        name.toLowerCase() === 'content-type' ? setHeader(name, type) : setHeader(name, value);
      setHeader('Content-Type', type);
    }
    next();
  };
}

export function securityHeadersPlugin(): Plugin {
  return {
    name: 'fixpoint-security-headers',
    configureServer(server) { server.middlewares.use(middleware(true)); },
    configurePreviewServer(server) { server.middlewares.use(middleware(false)); },
  };
}

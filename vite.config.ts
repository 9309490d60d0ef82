import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { securityHeadersPlugin } from './scripts/security-headers';

export default defineConfig({
  plugins: [react(), securityHeadersPlugin()],
  // protobufjs' eval-based optional require would break the CSP (no 'unsafe-eval'): see no-inquire.cjs.
  resolve: { alias: [{ find: '@protobufjs/inquire', replacement: fileURLToPath(new URL('./src/core/xmodel/no-inquire.cjs', import.meta.url)) }] },
  worker: { format: 'es' },
  build: { outDir: 'dist', chunkSizeWarningLimit: 4000 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
});

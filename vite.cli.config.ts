import { defineConfig } from 'vite';

// The `fixpoint` command: the same core, bundled for Node. Dependencies stay external (node_modules).
export default defineConfig({
  build: {
    ssr: 'src/cli/main.ts',
    outDir: 'dist-cli',
    emptyOutDir: true,
    target: 'node20',
    rollupOptions: { output: { entryFileNames: 'fixpoint.js', format: 'es' } },
  },
});

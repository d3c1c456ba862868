import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Preact's automatic JSX runtime through Vite 8's Oxc transform (no framework plugin needed).
// Served under /console/ both locally and from CloudFront; the manifest lets the bench measure the
// initial JavaScript (entry plus its static imports).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    // No inline scripts or styles anywhere: the CSP forbids them.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    // elkjs is one 1.4 MB module, loaded only when a workflow graph is drawn.
    chunkSizeWarningLimit: 1600,
  },
});

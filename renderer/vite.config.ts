import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The renderer is built once and served either by Electron (file://) or by the engine's loopback
// control server (browser mode), so every URL in the bundle is relative.
export const config = defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 2000 },
});

// Vite reads the default export of its config file; this is the one default export the project allows.
// eslint-disable-next-line no-restricted-syntax
export default config;

import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The hub serves dist/ in production; in development Vite serves the app and forwards the
// API and the live WebSocket to a hub on HUB_URL (default: the hub's default port).
const hub = process.env.HUB_URL ?? 'http://127.0.0.1:8080';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [svelte({ compilerOptions: { runes: true } })],
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: hub, changeOrigin: true },
      '/ws': { target: hub.replace(/^http/, 'ws'), ws: true },
    },
  },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 600 },
});

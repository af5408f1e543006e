import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The build goes to dist/app, which frontend/embed.go embeds; dist/placeholder.html (committed)
// stays beside it so the Go build works before the first npm build.
export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "dist/app",
    emptyOutDir: true,
    // No inline <script> or data: modules: the CSP allows script-src 'self' only.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 2000,
  },
  worker: { format: "es" },
  server: {
    // `npm run dev` against a portal on :8080 (make run).
    proxy: { "/api": "http://127.0.0.1:8080", "/auth": "http://127.0.0.1:8080" },
  },
});

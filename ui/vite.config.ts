import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";

// Tauri loads dist/ from its own origin, so every asset path is relative and nothing is remote.
export default defineConfig({
  base: "./",
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    // The provider marks live in the repository's icons/ folder, outside this one.
    fs: { allow: [".", "../icons/providers"] },
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // The CSP has no 'unsafe-inline' for scripts and no data: for fonts: keep every asset a file.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts"],
    restoreMocks: true,
    // Vitest blanks CSS by default; contrast.test.ts reads the palette as text.
    css: { include: [/\.css\?raw$/] },
  },
});

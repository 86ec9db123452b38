import { defineConfig } from "vitest/config";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { svelteTesting } from "@testing-library/svelte/vite";
import { readFileSync } from "node:fs";

// The footer shows the app's version; the workspace Cargo.toml is its only source.
function workspaceVersion(): string {
  const manifest = readFileSync(new URL("../Cargo.toml", import.meta.url), "utf8");
  const section = manifest.split(/^\[/m).find((part) => part.startsWith("workspace.package]"));
  const version = section && /^version\s*=\s*"([^"]+)"/m.exec(section)?.[1];
  if (!version) throw new Error('../Cargo.toml has no version = "…" under [workspace.package]; put the app\'s version there');
  return version;
}

// Tauri loads dist/ from its own origin, so every asset path is relative and nothing is remote.
export default defineConfig({
  base: "./",
  define: { __APP_VERSION__: JSON.stringify(workspaceVersion()) },
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

// The screens are built into dist/, which `takt serve` embeds and serves at /. The bundle is
// committed (the README's main command needs nothing but cargo); scripts/web.sh rebuilds it in the
// test command and fails when it differs from the committed one.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    // No source maps, no inline assets: every file the page loads comes from the takt server.
    sourcemap: false,
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
    target: "es2022",
  },
  oxc: {
    jsx: { runtime: "automatic", importSource: "preact" },
  },
});

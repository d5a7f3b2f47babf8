// Browser tests of the screens: Debian's chromium (installed by scripts/setup.sh; no browser is
// downloaded) against a real `takt serve` of the shipped bottling line on loopback (its calendar made
// round-the-clock: tests/around-the-clock.ts), started with an empty store of its own. TAKT_BIN
// names the binary (default: the debug build the test suite makes).
import { defineConfig } from "@playwright/test";
import { aroundTheClock } from "./tests/around-the-clock";

const port = Number(process.env.TAKT_WEB_PORT ?? 18093);
const bin = process.env.TAKT_BIN ?? "../target/debug/takt";
// Written once by the main process; the workers it starts inherit the path.
process.env.TAKT_WEB_SCENARIO ??= aroundTheClock();
const scenario = process.env.TAKT_WEB_SCENARIO;

export default defineConfig({
  testDir: "tests",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1600, height: 1000 },
    launchOptions: {
      executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: {
    command: `sh -c 'data=$(mktemp -d) && exec ${bin} serve --scenario ${scenario} --data "$data" --listen 127.0.0.1:${port} --insecure-no-auth'`,
    url: `http://127.0.0.1:${port}/ready`,
    timeout: 60_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
});

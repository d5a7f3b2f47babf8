// A takt server of the test's own, for tests that stop and restart it (the shared one stays up).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bin = process.env.TAKT_BIN ?? "../target/debug/takt";

export type Server = { url: string; data: string; process: ChildProcess };

/** `auth`: the server's authentication arguments (default: none needed); `scenario`: the plant
 * (default: the bottling line around the clock, as the shared server runs it). */
export async function startServer(
  port: number,
  data: string = mkdtempSync(join(tmpdir(), "takt-web-")),
  auth: string[] = ["--insecure-no-auth"],
  scenario: string = process.env.TAKT_WEB_SCENARIO ?? "../scenarios/bottling-line.toml",
): Promise<Server> {
  const child = spawn(
    bin,
    ["serve", "--scenario", scenario, "--data", data, "--listen", `127.0.0.1:${port}`, ...auth],
    { stdio: "ignore" },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/ready`)).ok) return { url, data, process: child };
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`takt serve on ${url} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Kills the server at once, as a crash or a pulled cable would end it. */
export async function killServer(server: Server): Promise<void> {
  const exited = new Promise((resolve) => server.process.once("exit", resolve));
  server.process.kill("SIGKILL");
  await exited;
}

/** A free loopback port for a server of a test's own. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

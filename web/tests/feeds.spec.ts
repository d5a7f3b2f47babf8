// A feed of the served twin that gave up, as the shift leader sees it: a real mosquitto on loopback
// (Debian's, installed by scripts/setup.sh) that refuses anonymous logins, and `takt serve --site
// … --mqtt` pointed at it without one. The board says which feed stopped, when and why; once the
// broker lets the twin in, the banner's button starts the feed again and the banner goes.
import { expect, test } from "@playwright/test";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectAccessible } from "./axe";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

const MOSQUITTO = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].find((p) => existsSync(p));

let broker: ChildProcess | undefined;
let server: Server | undefined;
let brokerPort = 0;
let brokerDir = "";

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

test.beforeAll(async () => {
  // Outside CI a machine without mosquitto skips this test; in CI its absence is a failure.
  if (!MOSQUITTO && !process.env.CI) return;
  if (!MOSQUITTO) throw new Error("mosquitto is not installed: run scripts/setup.sh");
  const dir = mkdtempSync(join(tmpdir(), "takt-web-feeds-"));
  const port = await freePort();
  [brokerPort, brokerDir] = [port, dir];
  await startBroker(false);
  server = await startServer(await freePort(), join(dir, "data"), [
    "--insecure-no-auth",
    "--site",
    "plant1",
    "--client-id",
    "takt-web-feeds",
    "--mqtt",
    `127.0.0.1:${port}`,
  ]);
});

/** The test's mosquitto on its port, refusing anonymous logins or letting them in. */
async function startBroker(anonymous: boolean): Promise<void> {
  const config = join(brokerDir, "mosquitto.conf");
  writeFileSync(config, `listener ${brokerPort} 127.0.0.1\nallow_anonymous ${anonymous}\nuser root\n`);
  broker = spawn(MOSQUITTO!, ["-c", config], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (!(await listening(brokerPort))) {
    if (Date.now() > deadline) throw new Error(`mosquitto did not open port ${brokerPort}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test.afterAll(async () => {
  if (server) await killServer(server);
  broker?.kill("SIGKILL");
});

test("a feed the broker refused shows on the board: which, since when and why; mended, it starts again from the banner", async ({ page }) => {
  test.skip(!MOSQUITTO, "mosquitto is not installed (scripts/setup.sh installs it)");
  const url = server!.url;
  const problems = watch(page, url);
  // The broker refuses the login at once; the feed gives up for good.
  await expect
    .poll(async () => ((await (await fetch(`${url}/twin/feeds`)).json()) as { feeds: { listening: boolean }[] }).feeds.map((f) => f.listening), {
      timeout: 20_000,
    })
    .toEqual([false]);
  await page.goto(`${url}/`);
  const banner = page.getByTestId("feed-banner");
  await expect(banner).toBeVisible();
  await expect(banner).toContainText("The MQTT feed from 127.0.0.1:");
  await expect(banner).toContainText(/stopped at \d{4}-\d\d-\d\d \d\d:\d\d \([\d.]+ s ago\)/);
  await expect(banner).toContainText(/not authori[sz]ed|refused/i);
  await expect(banner).toContainText("no longer kept in step with the plant");
  // The rest of the board still shows what the twin holds.
  await expect(page.getByTestId("machine-CasePacker")).toBeVisible();
  await page.screenshot({ path: "test-results/board-feed-stopped.png", fullPage: true });
  await expectAccessible(page);
  // The broker mended (it lets the twin in now): the shift leader starts the feed again, and the
  // banner goes once it listens.
  broker?.kill("SIGKILL");
  await new Promise((r) => broker?.once("exit", r));
  await startBroker(true);
  await banner.getByRole("button", { name: "Start it again" }).click();
  // What the button did, until the banner goes (it may go at once), then that every feed listens.
  await expect(page.getByTestId("feed-restart")).toHaveText(/1 feed\(s\) asked to start again|Every feed listens again\./);
  await expect(banner).toHaveCount(0, { timeout: 20_000 });
  await expect(page.getByTestId("feed-restart")).toHaveText("Every feed listens again.");
  const feeds = (await (await fetch(`${url}/twin/feeds`)).json()) as { feeds: { listening: boolean }[] };
  expect(feeds.feeds.map((f) => f.listening)).toEqual([true]);
  expect(problems).toEqual([]);
});

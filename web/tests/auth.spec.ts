// A server with tokens: the page asks for one, keeps it for the tab only, and shows the board.
import { expect, test } from "@playwright/test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countEvent, MACHINES, stateEvent } from "./plant";
import { killServer, startServer } from "./server";

const READ = "read-token-for-the-board-0123456789";
const OPERATE = "operate-token-for-the-shift-leader-0123";
const WRITE = "write-token-for-the-plant-feed-0123456";

test("with tokens, the page asks for one, keeps it out of the URL and local storage, and shows the board; a shift leader's token runs the forecast", async ({ page, browser }) => {
  const dir = mkdtempSync(join(tmpdir(), "takt-auth-"));
  writeFileSync(join(dir, "tokens"), `read ${READ}\noperate ${OPERATE}\nwrite ${WRITE}\n`);
  const server = await startServer(Number(process.env.TAKT_WEB_PORT_AUTH ?? 18096), join(dir, "data"), ["--tokens", join(dir, "tokens")]);
  try {
    const problems: string[] = [];
    page.on("console", (m) => {
      // The first calls are refused (401) until the token is given: the browser logs them.
      if (m.type() === "error" && !m.text().includes("status of 401")) problems.push(m.text());
    });
    // The plant feeds the twin with a write token (a twin that has heard nothing has no forecast
    // to refuse); a read token is then told it cannot run one, an operate token sees it.
    const start = Date.now() - 120_000;
    const fed = await fetch(`${server.url}/twin/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${WRITE}` },
      body: JSON.stringify([
        ...MACHINES.map((m) => stateEvent(m, "RUNNING", "production", start)),
        ...MACHINES.map((m) => countEvent(m, 40, start + 60_000)),
      ]),
    });
    expect(fed.status).toBe(200);
    await page.goto(`${server.url}/`);
    await expect(page.getByRole("heading", { name: "This takt server wants a token" })).toBeVisible();
    await page.getByLabel("Token").fill(READ);
    await page.getByRole("button", { name: "Use this token" }).click();
    await expect(page.getByTestId("machine-Filler")).toBeVisible();
    await expect(page.getByTestId("connection")).toContainText("live");
    // A read token cannot run a forecast: the board says so instead of failing silently.
    await expect(page.getByTestId("forecast")).toContainText("operate role");
    await page.getByTestId("forecast").screenshot({ path: "test-results/forecast-read-token.png" });
    expect(page.url()).not.toContain(READ);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(READ);
    expect(await page.evaluate(() => sessionStorage.getItem("takt.token"))).toBe(READ);
    expect(problems.filter((p) => !p.includes("status of 403"))).toEqual([]);

    // A shift leader's (operate) token sees the forecast, on a screen of its own.
    const leader = await browser.newPage();
    await leader.goto(`${server.url}/`);
    await leader.getByLabel("Token").fill(OPERATE);
    await leader.getByRole("button", { name: "Use this token" }).click();
    await expect(leader.getByTestId("forecast-chart")).toBeVisible({ timeout: 30_000 });
    await leader.close();
  } finally {
    await killServer(server);
  }
});

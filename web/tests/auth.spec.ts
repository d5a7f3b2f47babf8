// A server with tokens: the page asks for one, keeps it for the tab only, and shows the board.
import { expect, test } from "@playwright/test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killServer, startServer } from "./server";

const READ = "read-token-for-the-board-0123456789";

test("with tokens, the page asks for one, keeps it out of the URL and local storage, and shows the board", async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), "takt-auth-"));
  writeFileSync(join(dir, "tokens"), `read ${READ}\n`);
  const server = await startServer(Number(process.env.TAKT_WEB_PORT_AUTH ?? 18096), join(dir, "data"), ["--tokens", join(dir, "tokens")]);
  try {
    const problems: string[] = [];
    page.on("console", (m) => {
      // The first calls are refused (401) until the token is given: the browser logs them.
      if (m.type() === "error" && !m.text().includes("status of 401")) problems.push(m.text());
    });
    await page.goto(`${server.url}/`);
    await expect(page.getByRole("heading", { name: "This takt server wants a token" })).toBeVisible();
    await page.getByLabel("Token").fill(READ);
    await page.getByRole("button", { name: "Use this token" }).click();
    await expect(page.getByTestId("machine-Filler")).toBeVisible();
    await expect(page.getByTestId("connection")).toContainText("live");
    // A read token cannot run a forecast: the board says so instead of failing silently.
    await expect(page.getByTestId("forecast")).toContainText("write role");
    expect(page.url()).not.toContain(READ);
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(READ);
    expect(await page.evaluate(() => sessionStorage.getItem("takt.token"))).toBe(READ);
    expect(problems.filter((p) => !p.includes("status of 403"))).toEqual([]);
  } finally {
    await killServer(server);
  }
});

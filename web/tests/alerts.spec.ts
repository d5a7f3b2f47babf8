// Alerts on the line board, against a takt server of the test's own: a machine down for twelve
// minutes shows as a critical alert at the top of the board; the shift leader takes it on with a
// name and a note, and the board says who did; when the machine runs again the alert goes.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { countEvent, sendTo, stateEvent } from "./plant";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  server = await startServer(await freePort());
});

test.afterAll(async () => {
  await killServer(server);
});

const send = (events: object[]) => sendTo(server.url, events);

test("a long stop is an alert the shift leader takes on, and it goes when the machine runs", async ({ page }) => {
  const problems = watch(page, server.url);
  const now = Date.now();
  // The Filler broke down twelve minutes ago; the machines after it ran dry a minute later.
  await send([
    stateEvent("Filler", "UNPLANNED_DOWN", "breakdown", now - 12 * 60_000),
    countEvent("Labeller", 10, now - 12 * 60_000),
    stateEvent("Labeller", "STARVED", "no_input", now - 11 * 60_000),
    countEvent("CasePacker", 10, now - 11 * 60_000),
    stateEvent("CasePacker", "STARVED", "no_input", now),
  ]);
  await page.goto(`${server.url}/`);
  const alerts = page.getByTestId("alerts");
  await expect(alerts).toContainText("1 open");
  const alert = alerts.getByTestId("alert");
  await expect(alert).toContainText("Critical: Filler down (breakdown) since");
  await expect(alert).toContainText("over 10 min");
  await page.screenshot({ path: "test-results/alerts.png", fullPage: false });
  await alert.getByRole("button", { name: /take on alert/ }).click();
  await alert.getByLabel("Your name").fill("A. Meyer");
  await alert.getByLabel("What you do").fill("fitter on the way");
  await expectAccessible(page);
  await alert.getByRole("button", { name: "Take on", exact: true }).click();
  await expect(alert).toContainText("taken on by A. Meyer: fitter on the way");
  // Another screen sees it taken on too: the change comes over the stream.
  const other = await page.context().newPage();
  await other.goto(`${server.url}/`);
  await expect(other.getByTestId("alert")).toContainText("taken on by A. Meyer");
  // Running again: the alert clears on both screens without a reload.
  await send([stateEvent("Filler", "RUNNING", "production", Date.now())]);
  await expect(alerts).toContainText("none open");
  await expect(other.getByTestId("alerts")).toContainText("Nothing needs attention. Watched: a machine in UNPLANNED_DOWN longer than 10 min");
  // For the handover: folded below, the alerts that cleared in this shift, and who took each on.
  const cleared = page.getByTestId("alerts-cleared");
  await expect(cleared).toContainText("Cleared in this shift · 1");
  await cleared.getByText("Cleared in this shift").click();
  const row = cleared.getByRole("row").filter({ hasText: "Filler down (breakdown)" });
  await expect(row).toContainText("A. Meyer: fitter on the way");
  await expect(row.getByRole("cell").nth(3)).toHaveText(/^\d+(\.\d)? min$/);
  await page.screenshot({ path: "test-results/alerts-cleared.png", fullPage: false });
  expect(problems).toEqual([]);
});

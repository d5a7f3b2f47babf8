// The board between two shifts, against a server of the test's own running the shipped bottling
// line (two shifts, Monday to Friday): events dated on the last Sunday before today put the twin's
// clock past the end of Friday's late shift. The board says that no shift is running and the
// forecast waits for the next one, instead of asking the server for a forecast it must refuse.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { MACHINES, stateEvent } from "./plant";
import { SHIPPED } from "./around-the-clock";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  server = await startServer(await freePort(), undefined, undefined, SHIPPED);
});

test.afterAll(async () => {
  await killServer(server);
});

/** The last Sunday before today, 12:00 at the plant (+01:00), as Unix milliseconds. */
function lastSundayNoon(): number {
  const plant = new Date(Date.now() + 3600_000);
  const back = plant.getUTCDay() === 0 ? 7 : plant.getUTCDay();
  const day = Date.UTC(plant.getUTCFullYear(), plant.getUTCMonth(), plant.getUTCDate() - back, 12);
  return day - 3600_000;
}

test("between shifts the board says no shift is running and the forecast waits for the next", async ({ page }) => {
  const sunday = lastSundayNoon();
  const response = await fetch(`${server.url}/twin/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(MACHINES.map((m) => stateEvent(m, "IDLE", "no shift", sunday))),
  });
  expect(response.ok).toBe(true);
  const problems = watch(page, server.url);
  await page.goto(server.url);
  await expect(page.getByTestId("machine-Filler")).toHaveAttribute("data-state", "IDLE");
  // Friday's late shift ended at 22:00, 38 hours before Sunday noon; Monday's early shift starts
  // at 06:00, 18 hours after it.
  const monday = new Date(sunday + 3600_000 + 18 * 3600_000).toISOString().slice(0, 10);
  const friday = new Date(sunday + 3600_000 - 38 * 3600_000).toISOString().slice(0, 10);
  await expect(page.getByTestId("between-shifts")).toHaveText(
    ` · no shift running: this one ended 38 h 00 min ago, the next starts ${monday} 06:00`,
  );
  await expect(page.getByTestId("forecast-between-shifts")).toHaveText(
    `No shift is running: the late shift ended at ${friday} 22:00. The forecast runs again once the next shift has begun, at ${monday} 06:00.`,
  );
  await expect(page.getByRole("button", { name: "refresh" })).toBeDisabled();
  // The timeline's switch names the shifts as they are: none is running.
  const which = page.getByRole("group", { name: "which shift" });
  await expect(which.getByRole("button")).toHaveText(["last shift", "shift before it"]);
  await page.screenshot({ path: "test-results/board-between-shifts.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

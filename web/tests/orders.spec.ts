// The plant's own order book on the board: against a server of the test's own (the bottling line
// around the clock, fed events stamped now), whose scenario's orders were due in January 2026.
// Before a book, the board says the orders are the scenario's and every open one is overdue; once
// the MES gives the plant's open orders (PUT /twin/orders), the next forecast is of those.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { countEvent, MACHINES, stamp, stateEvent } from "./plant";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  server = await startServer(await freePort());
  const start = Date.now() - 120_000;
  const events = [...MACHINES.map((m) => stateEvent(m, "RUNNING", "production", start)), ...MACHINES.map((m) => countEvent(m, 40, start + 60_000))];
  const response = await fetch(`${server.url}/twin/events`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(events),
  });
  expect(response.ok).toBe(true);
});

test.afterAll(async () => {
  await killServer(server);
});

test("once the plant's order book is given, the board forecasts its orders instead of the scenario's", async ({ page }) => {
  const problems = watch(page, server.url);
  await page.goto(server.url);
  const orders = page.getByTestId("forecast-orders");
  await expect(orders.locator("caption")).toHaveText(/^Orders of the scenario, dated from its start/, { timeout: 30_000 });
  await expect(page.getByTestId("forecast-orders-stale")).toContainText("PUT /twin/orders");

  // The MES gives two open orders: one under way, due in three hours, one released in an hour.
  const book = {
    orders: [
      { id: "WO-7001", product: "cola-033", quantity: 6000, good: 40, due: stamp(Date.now() + 3 * 3600_000) },
      { id: "WO-7002", product: "water-100", quantity: 2000, release: stamp(Date.now() + 3600_000), due: stamp(Date.now() + 6 * 3600_000) },
    ],
  };
  const given = await fetch(`${server.url}/twin/orders`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(book),
  });
  expect(given.status).toBe(200);
  await page.getByRole("button", { name: "refresh" }).click();
  await expect(orders.locator("caption")).toHaveText(/^Orders of the plant's order book \(as of \d{4}-\d\d-\d\d \d\d:\d\d\)/, { timeout: 30_000 });
  await expect(orders.getByRole("row", { name: /WO-7001/ })).toBeVisible();
  await expect(orders.getByRole("row", { name: /WO-7002/ })).toBeVisible();
  await expect(orders).not.toContainText("SO-4711");
  await expect(orders).not.toContainText("overdue");
  // No plan column: the plan is the scenario's, which has none of these orders.
  await expect(orders.getByRole("columnheader")).toHaveText(["order", "quantity", "due", /^done by \d\d:\d\d$/, "on time"]);
  await expect(page.getByTestId("forecast-orders-stale")).toHaveCount(0);
  for (const cell of await orders.getByRole("row", { name: /WO-7001/ }).getByRole("cell").all()) {
    await expect(cell).toHaveText(/^(WO-7001|6,000|\d{4}-\d\d-\d\d \d\d:\d\d|\d+\.\d %|done|due later)$/);
  }
  await page.getByTestId("forecast").screenshot({ path: "test-results/board-orders.png" });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

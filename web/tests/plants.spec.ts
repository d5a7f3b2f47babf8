// A site of two plants on one server (`takt serve --plant press=…`): the board offers the plants,
// shows the one chosen (its address keeps it), and each plant's events show on its own board only.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { sendTo, stateEvent } from "./plant";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  server = await startServer(await freePort(), undefined, ["--insecure-no-auth", "--plant", "press=../scenarios/body-in-white.toml"]);
});

test.afterAll(async () => {
  await killServer(server);
});

const send = (path: string, events: object[]) => sendTo(server.url, events, path);

test("the board offers the site's plants and shows each plant's own machines and events", async ({ page }) => {
  const problems = watch(page, server.url);
  await page.goto(`${server.url}/#/board`);
  const picker = page.getByTestId("plant-picker");
  await expect(page.getByTestId("machine-Filler")).toBeVisible();
  await expect(picker.locator("option")).toHaveText(["Bottling line - one shift (default)", "Stamping and body-in-white joining"]);
  await picker.selectOption("press");
  await expect(page).toHaveURL(/#\/board\?plant=press$/);
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("Stamping and body-in-white joining");
  const press = page.getByTestId("machine-Press");
  await expect(press).toBeVisible();
  await expect(page.getByTestId("machine-Filler")).toHaveCount(0);
  // An event of the press plant shows on its board, live.
  await expect(page.getByTestId("connection")).toContainText("live");
  await send("/plants/press/twin/events", [stateEvent("Press", "UNPLANNED_DOWN", "die change")]);
  await expect(press).toHaveAttribute("data-state", "UNPLANNED_DOWN", { timeout: 2000 });
  await expect(press).toContainText("die change");
  await page.screenshot({ path: "test-results/board-plants.png", fullPage: true });
  await expectAccessible(page);
  // A reload keeps the plant; the default plant's board never saw the press's event.
  await page.reload();
  await expect(page.getByTestId("machine-Press")).toHaveAttribute("data-state", "UNPLANNED_DOWN");
  await picker.selectOption({ label: "Bottling line - one shift (default)" });
  await expect(page).toHaveURL(/#\/board$/);
  await expect(page.getByTestId("machine-Filler")).toBeVisible();
  await expect(page.getByTestId("machine-Press")).toHaveCount(0);
  // The default plant has heard nothing: its board does not ask for a forecast the server must
  // refuse (a 422 in the console, which the line above would have caught), it says why there is none.
  await expect(page.getByTestId("forecast-no-events")).toBeVisible();
  expect(problems).toEqual([]);
});

test("an unknown plant in the address says which plants there are", async ({ page }) => {
  await page.goto(`${server.url}/#/board?plant=paint-shop`);
  await expect(page.getByRole("alert")).toContainText("no plant `paint-shop`");
  await expect(page.getByRole("alert")).toContainText("press");
});

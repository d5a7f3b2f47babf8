// A shop-floor TV showing a long line: the forging shop's thirteen machines (four heat-treatment
// furnaces and three CNC lathes in parallel) on one 1080p screen, each with its name whole, its
// state in words, and the shift's timeline and stops below, without scrolling.
import { expect, test } from "@playwright/test";
import { aroundTheClock } from "./around-the-clock";
import { expectAccessible } from "./axe";
import { countEvent, sendTo, stateEvent } from "./plant";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  // Around the clock, so that what the board shows does not depend on the hour the suite runs at.
  server = await startServer(await freePort(), undefined, ["--insecure-no-auth"], aroundTheClock("../scenarios/forging-shop.toml"));
});

test.afterAll(async () => {
  await killServer(server);
});

const send = (events: object[]) => sendTo(server.url, events);

test("a TV shows a line of thirteen machines on one screen, every name whole, with its timeline and stops", async ({ page }) => {
  const problems = watch(page, server.url);
  const layout = (await (await fetch(`${server.url}/twin/layout`)).json()) as { stations: { machines: string[] }[] };
  const machines = layout.stations.flatMap((s) => s.machines);
  expect(machines.length).toBe(13);
  // Every machine runs; one furnace is down, a lathe waits for parts.
  const now = Date.now();
  await send(machines.map((m) => stateEvent(m, "RUNNING", "production", now - 120_000)));
  await send([
    ...machines.map((m) => countEvent(m, m === "CNC.1" ? 12 : 1, now - 60_000)),
    stateEvent("HeatTreat.3", "UNPLANNED_DOWN", "burner fault", now - 50_000),
    stateEvent("CNC.2", "STARVED", "no_input", now - 40_000),
  ]);
  await page.setViewportSize({ width: 1920, height: 1080 });
  await page.goto(`${server.url}/#/board?tv`);
  for (const m of machines) await expect(page.getByTestId(`machine-${m}`)).toHaveAttribute("data-state", m === "HeatTreat.3" ? "UNPLANNED_DOWN" : m === "CNC.2" ? "STARVED" : "RUNNING");
  await expect(page.getByTestId("machine-HeatTreat.3")).toContainText("down");
  await expect(page.getByTestId("reason-HeatTreat.3")).toHaveText("burner fault");
  await expect(page.getByTestId("good-CNC.1")).toHaveText("12");
  // Twelve parts in two minutes beat the lathe's standard cycle: said in words on the card, not
  // only by ⚑ (a TV has no pointer to hover with).
  await expect(page.getByTestId("machine-CNC.1").locator(".warning")).toHaveText("faster than standard");
  const whole = await page.getByTestId("machine-CNC.1").locator(".warning").evaluate((e) => e.scrollWidth <= e.clientWidth);
  expect(whole).toBe(true);
  await expect(page.getByTestId("timeline-chart")).toBeVisible();
  await expect(page.getByTestId("pareto-chart")).toBeVisible();
  // Each card on the screen, its name not cut.
  for (const m of machines) {
    const card = page.getByTestId(`machine-${m}`);
    const box = await card.boundingBox();
    expect(box, m).not.toBeNull();
    expect(box!.x + box!.width, m).toBeLessThanOrEqual(1920);
    expect(box!.y + box!.height, m).toBeLessThanOrEqual(1080);
    const name = card.locator("h3");
    await expect(name).toHaveText(m);
    const cut = await name.evaluate((e) => e.scrollWidth > e.clientWidth);
    expect(cut, `${m}'s name is cut`).toBe(false);
  }
  // Read from a few metres, and nothing to scroll.
  const text = await page.evaluate(() => parseFloat(getComputedStyle(document.documentElement).fontSize));
  expect(text).toBeGreaterThanOrEqual(22);
  const size = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]);
  await page.screenshot({ path: "test-results/board-tv-long-line.png" });
  expect(size[0]).toBeLessThanOrEqual(1920);
  expect(size[1]).toBeLessThanOrEqual(1080);
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

// The shifts that ended, on the board under the shift before: against a server of the test's own
// running the shipped bottling line (two shifts, Monday to Friday), fed a Monday and a Tuesday of
// last week as the machines would have sent them.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { SHIPPED } from "./around-the-clock";
import { countEvent, MACHINES, stateEvent } from "./plant";
import { freePort, killServer, startServer, type Server } from "./server";
import { watch } from "./watch";

let server: Server;

test.beforeAll(async () => {
  server = await startServer(await freePort(), undefined, undefined, SHIPPED);
});

test.afterAll(async () => {
  await killServer(server);
});

/** Monday of last week at `hh:mm` in the plant (+01:00), plus `days`, as Unix milliseconds. */
function lastWeek(days: number, hh: number, mm: number): number {
  const plant = new Date(Date.now() + 3600_000);
  const sinceMonday = (plant.getUTCDay() + 6) % 7;
  const monday = Date.UTC(plant.getUTCFullYear(), plant.getUTCMonth(), plant.getUTCDate() - sinceMonday - 7 + days, hh, mm);
  return monday - 3600_000;
}

/** The plant's date of a moment, as the board writes it. */
function plantDate(ms: number): string {
  return new Date(ms + 3600_000).toISOString().slice(0, 10);
}

test("the board lists the shifts before the last one, newest first, with the line's output and each machine's OEE", async ({ page }) => {
  // Each machine runs from ten past the shift's start and makes 100, 200, then 300 pieces.
  const [mondayEarly, mondayLate, tuesdayEarly, tuesdayLate] = [lastWeek(0, 6, 10), lastWeek(0, 14, 10), lastWeek(1, 6, 10), lastWeek(1, 14, 10)];
  const starts = [mondayEarly, mondayLate, tuesdayEarly, tuesdayLate];
  for (const [k, at] of starts.entries()) {
    const events = MACHINES.flatMap((m) => [stateEvent(m, "RUNNING", "production", at), countEvent(m, 100 * (k + 1), at + 60_000)]);
    const response = await fetch(`${server.url}/twin/events`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(events),
    });
    expect(response.ok).toBe(true);
  }
  const problems = watch(page, server.url);
  await page.goto(server.url);
  const before = page.getByTestId("previous-shift");
  await expect(before.getByRole("heading", { level: 2 })).toHaveText(`Shift before – early, ${plantDate(tuesdayEarly)} 06:00 to 14:00`);
  const earlier = page.getByTestId("earlier-shifts");
  await expect(earlier.getByRole("columnheader")).toHaveText(["shift", "good (CasePacker)", "OEE Filler", "OEE Labeller", "OEE CasePacker"]);
  const monday = plantDate(mondayLate);
  await expect(earlier.getByRole("rowheader")).toHaveText([`late ${monday} 14:00`, `early ${monday} 06:00`]);
  await expect(earlier.getByRole("row").nth(1).getByRole("cell").first()).toHaveText("200");
  await expect(earlier.getByRole("row").nth(2).getByRole("cell").first()).toHaveText("100");
  // Whatever the figures, each is a share or a dash, never a bare number.
  for (const cell of await earlier.getByRole("row").nth(1).getByRole("cell").all()) {
    await expect(cell).toHaveText(/^(\d[\d,]*|\d+\.\d %( ⚑)?|–)$/);
  }
  // The day and the week of the running shift (Tuesday's late): Tuesday's two shifts, Monday's
  // (yesterday), then all four since Monday, summed at the line's last machine.
  const totals = page.getByTestId("period-totals");
  await expect(totals.getByRole("rowheader")).toHaveText([
    `day ${plantDate(tuesdayEarly)} (so far)`,
    `day ${plantDate(mondayEarly)} (yesterday)`,
    `week from ${plantDate(mondayEarly)} (so far)`,
  ]);
  await expect(totals.getByRole("row").nth(1).getByRole("cell").first()).toHaveText("700");
  await expect(totals.getByRole("row").nth(2).getByRole("cell").first()).toHaveText("300");
  await expect(totals.getByRole("row").nth(3).getByRole("cell").first()).toHaveText("1,000");
  for (const cell of await totals.getByRole("row").nth(3).getByRole("cell").all()) {
    await expect(cell).toHaveText(/^(\d[\d,]*|\d+\.\d %( ⚑)?|–)$/);
  }
  // The shift before's report for the handover, as a page to keep: the early shift of Tuesday,
  // the line's 300 pieces, every machine.
  const download = page.waitForEvent("download");
  await before.getByRole("button", { name: "Shift report for the handover (HTML)" }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe(`shift-report-${plantDate(tuesdayEarly)}.html`);
  const handover = readFileSync(await saved.path(), "utf8");
  expect(handover).toContain(`Shift report: shift early, ${plantDate(tuesdayEarly)}`);
  expect(handover).toContain("The line (CasePacker): 300 good parts");
  for (const m of MACHINES) expect(handover).toContain(`<td>${m}</td>`);
  await page.screenshot({ path: "test-results/board-shifts.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

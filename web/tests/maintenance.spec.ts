// The maintenance planner against a real takt server: a maintenance engineer plans two weeks of the
// forging shop, reads the services on the calendar beside production time, the risk over time, the
// plan against running to failure in the simulator, and takes the planned scenario.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { MACHINES, send, stateEvent } from "./plant";
import { watch } from "./watch";
import { readFileSync } from "node:fs";

test("a maintenance plan renders its calendar, risk, comparison and planned scenario", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!);
  await page.goto("/#/maintenance");
  await expect(page.getByRole("heading", { name: "Maintenance planner" })).toBeVisible();
  await page.getByTestId("scenario-file").setInputFiles("../scenarios/forging-shop.toml");
  await expect(page.getByText("Using forging-shop.toml")).toBeVisible();
  await page.getByLabel("Compare in the simulator (runs)").fill("4");
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await expect(page.getByTestId("maintenance-plan")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("job-status")).toContainText("done");
  // The job shown heads the list of earlier ones, to open again later.
  const earlier = page.getByTestId("earlier-jobs");
  await expect(earlier.locator("summary")).toHaveText(/^Earlier maintenance plans \(\d+\)$/);
  await expect(earlier.locator("tbody tr").first()).toContainText("shown");
  // What it was: the plant, how far ahead, from where.
  await expect(earlier.locator("tbody tr").first()).toContainText(/ · .+ ahead from the scenario's start/);
  await expect(page.getByTestId("calendar")).toBeVisible();
  await expect(page.getByTestId("risk-chart")).toBeVisible();
  // Every service is listed with its start in plant time (the forging shop's offset).
  const windows = page.getByTestId("windows").locator("tbody tr");
  expect(await windows.count()).toBeGreaterThan(0);
  await expect(windows.first().locator("td").nth(1)).toHaveText(/^2026-\d\d-\d\d \d\d:\d\d$/);
  // The three policies side by side, and the verdict on cost in words.
  await expect(page.getByTestId("policies").locator("thead th")).toHaveText(["figure", "run to failure", "fixed interval", "optimized plan"]);
  // Each policy says what it does: the fixed interval per machine is the one of least cost.
  await expect(page.getByTestId("policy-descriptions")).toContainText(/fixed interval: .*least expected cost per hour.*Saw (every [\d,]+ h \d\d min|none), Press/);
  // Money as the library writes it: the unit once, after the half-width.
  await expect(page.getByTestId("policy-decision")).toContainText(/The optimized plan against running to failure: cost [+−]?[\d,]+ ± [\d,]+ EUR, /);
  await expect(page.getByTestId("policies")).not.toContainText("% ±");
  // The MILP is asked for (the default); a build without it says that the greedy heuristic planned.
  const solver = (await page.getByTestId("maintenance-plan").locator(".figures").textContent()) ?? "";
  await expect(page.getByTestId("no-milp")).toHaveCount(/\(milp/.test(solver) ? 0 : 1);
  await page.screenshot({ path: "test-results/maintenance.png", fullPage: true });
  await expectAccessible(page);
  // The scenario with the plan in it: downloaded, and stored on the server for the other screens.
  const file = page.waitForEvent("download");
  await page.getByRole("button", { name: "download the planned scenario" }).click();
  const planned = readFileSync(await (await file).path(), "utf8");
  expect(planned).toContain("# Maintenance planned by takt");
  expect(planned).toMatch(/at = \[/);
  await page.getByRole("button", { name: "store on the server" }).click();
  await expect(page.getByRole("button", { name: "stored on the server" })).toBeVisible();
  expect(problems).toEqual([]);
});

test("a maintenance plan starts from the plant as it stands now, its machines' ages from the twin", async ({ page, request, baseURL }) => {
  const problems = watch(page, baseURL!);
  const at = Date.now() - 60_000;
  await send(request, MACHINES.map((m) => stateEvent(m, "RUNNING", "production", at)));
  await page.goto("/#/maintenance");
  await page.getByTestId("twin-plant").selectOption({ index: 1 });
  await expect(page.getByText(/as its twin has it now/)).toBeVisible();
  // Compared in the simulator from the plant as it stands, as a plan from the scenario is.
  await page.getByLabel("Compare in the simulator (runs)").fill("4");
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await expect(page.getByTestId("maintenance-plan")).toBeVisible({ timeout: 60_000 });
  // From the twin's clock (today, in the plant's time, UTC+01:00), not the scenario's start.
  const today = new Date(at + 3_600_000).toISOString().slice(0, 10);
  await expect(page.getByTestId("maintenance-plan").getByRole("heading").first()).toContainText(`from ${today}`);
  const policies = page.getByTestId("policies");
  await expect(policies).toBeVisible({ timeout: 60_000 });
  await expect(policies.locator("caption")).toContainText(`4 simulated runs per policy over the horizon from ${today}`);
  await expect(policies.getByRole("columnheader")).toHaveText(["figure", "run to failure", "fixed interval", "optimized plan"]);
  await page.screenshot({ path: "test-results/maintenance-live.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

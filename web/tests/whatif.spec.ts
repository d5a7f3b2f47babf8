// The what-if studio against a real takt server: a planner builds variants over the plant's fields,
// adds a sweep, runs the study as a job, and reads the differences with their intervals, the
// decision in words, the response curve, and the exports.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { watch } from "./watch";
import { readFileSync } from "node:fs";

test("a what-if job runs from the form to its differences, decisions, curve and report", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!, 422);
  await page.goto("/#/whatif");
  await expect(page.getByRole("heading", { name: "What-if studio" })).toBeVisible();
  // The twin's own plant is chosen, and its fields are offered with their values now.
  await expect(page.locator("select").first()).toHaveText(/Bottling line/);
  await expect.poll(() => page.locator("#override-paths option").count()).toBeGreaterThan(40);

  const first = page.getByTestId("variant").nth(0);
  await first.getByLabel("Name").fill("bigger conveyors");
  await first.getByLabel("Field").fill("buffers.conveyor-fill-label.capacity");
  await expect(first.getByText("now 240")).toBeVisible();
  await first.getByLabel("New value").fill("600");
  await first.getByRole("button", { name: "add a change" }).click();
  await first.getByLabel("Field").nth(1).fill("buffers.conveyor-label-pack.capacity");
  await first.getByLabel("New value").nth(1).fill("600");
  await page.getByRole("button", { name: "add a variant" }).click();
  const second = page.getByTestId("variant").nth(1);
  await second.getByLabel("Name").fill("second labeller");
  await second.getByLabel("Field").fill("stations.Labeller.machines");
  await expect(second.getByText("now 1 (default)")).toBeVisible();
  await second.getByLabel("New value").fill("2");
  await page.getByLabel("Values").fill("1,2,3");
  await page.getByRole("group", { name: /Sweep/ }).getByLabel("Field").fill("crews.technician.count");
  await page.getByLabel("Replications", { exact: true }).fill("5");
  await page.getByRole("button", { name: "Run", exact: true }).click();

  const results = page.getByTestId("results");
  await expect(results).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("job-status")).toContainText("done");
  const decisions = page.getByTestId("decisions");
  // The shift's order book bounds its output: every variant makes the same, and says so.
  await expect(decisions).toContainText("bigger conveyors: throughput the same as the base in every replication");
  await expect(decisions).toContainText("second labeller: throughput");
  // Where the orders finish is what bigger conveyors change: a relative and an absolute change
  // with their intervals, and the verdict.
  await page.getByLabel("KPI").selectOption({ label: "order makespan" });
  await expect(decisions.locator("li").first()).toHaveText(/^bigger conveyors: order makespan −[\d.]+ % ± [\d.]+ % \(−[\d.]+ min ± [\d.]+ min\), (significant|no significant change: the 95 % interval includes 0)$/);
  await expect(page.getByTestId("differences")).toBeVisible();
  await expect(page.getByTestId("response-curve")).toBeVisible();
  // The base, two named variants and three sweep points in the table's head.
  await expect(page.getByTestId("kpi-table").locator("thead th")).toHaveCount(1 + 1 + 2 + 3);
  await expect(page.getByTestId("kpi-table")).toContainText("parts/h");
  // Another KPI redraws the decisions in its unit.
  await page.getByLabel("KPI").selectOption({ label: "Labeller OEE" });
  await expect(decisions).toContainText(/second labeller: Labeller OEE −[\d.]+( ± [\d.]+)? pp, significant/);
  await page.getByLabel("KPI").selectOption({ label: "order makespan" });
  await page.screenshot({ path: "test-results/whatif.png", fullPage: true });
  await expectAccessible(page);

  // Exports: every estimate as CSV, and the self-contained report from the server.
  const csv = page.waitForEvent("download");
  await page.getByRole("button", { name: "export CSV" }).click();
  const rows = readFileSync(await (await csv).path(), "utf8").trim().split("\n");
  expect(rows[0]).toBe("variant,kpi,label,mean,ci95,difference,difference_ci95,significant");
  expect(rows.filter((r) => r.startsWith("bigger conveyors,throughput_per_hour,")).length).toBe(1);
  const report = page.waitForEvent("download");
  await page.getByRole("button", { name: "HTML report" }).click();
  const html = readFileSync(await (await report).path(), "utf8");
  expect(html).toMatch(/<html/i);
  expect(html).toContain("second labeller");

  // A value the field cannot take is refused at its variant, before any run.
  await second.getByLabel("New value").fill("many");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("variants[1]");

  // A long study can be cancelled from the page.
  await second.getByLabel("New value").fill("2");
  await page.getByLabel("Replications", { exact: true }).fill("1000");
  await page.getByLabel("Horizon").fill("5d");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByRole("button", { name: "cancel" }).click();
  await expect(page.getByTestId("job-status")).toContainText("cancelled", { timeout: 30_000 });
  expect(problems).toEqual([]);
});

test("a study run before is opened again from the earlier studies, without running it again", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!);
  let submitted = 0;
  page.on("request", (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname === "/simulations") submitted += 1;
  });
  await page.goto("/#/whatif");
  const earlier = page.getByTestId("earlier-jobs");
  await earlier.locator("summary").click();
  // Newest first: the study cancelled last, then the one that ran to its end.
  const rows = earlier.locator("tbody tr");
  await expect(rows.first()).toContainText("cancelled");
  // What each was: the plant, its variants and runs.
  await expect(rows.first()).toContainText("1,000 runs each");
  const done = rows.filter({ hasText: "done" }).first();
  await expect(done).toContainText("variants: bigger conveyors, second labeller");
  await done.getByRole("button", { name: /^open the study submitted \d{4}-\d\d-\d\d \d\d:\d\d: .* · \d+ variants: bigger conveyors/ }).click();
  await expect(page.getByTestId("results")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId("decisions")).toContainText("bigger conveyors");
  await expect(done).toContainText("shown");
  expect(submitted).toBe(0);
  await page.screenshot({ path: "test-results/whatif-earlier.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

// The schedule board against a real takt server: a planner uploads a plant, plans its order book,
// and reads the plan as a Gantt chart with its orders.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { watch } from "./watch";
import { readFileSync } from "node:fs";

test("a schedule job runs from the form to a Gantt chart with the plan's orders", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!);
  await page.goto("/#/schedule");
  await expect(page.getByRole("heading", { name: "Schedule board" })).toBeVisible();
  await page.getByTestId("scenario-file").setInputFiles("../scenarios/body-in-white.toml");
  await expect(page.getByText("Using body-in-white.toml")).toBeVisible();
  await page.getByLabel("Solver").selectOption("dispatch");
  await page.getByLabel("Robustness runs").fill("5");
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await expect(page.getByTestId("gantt")).toBeVisible({ timeout: 60_000 });
  // Every order of the book is in the plan's table.
  const ids = [...readFileSync("../scenarios/body-in-white.toml", "utf8").matchAll(/^id = "([^"]+)"/gm)].map((m) => m[1]!);
  expect(ids.length).toBeGreaterThan(5);
  const rows = page.getByTestId("plan-orders").locator("tbody tr");
  await expect(rows).toHaveCount(ids.length);
  for (const id of ids) await expect(page.getByTestId("plan-orders")).toContainText(id);
  await expect(page.getByTestId("job-status")).toContainText("done");
  // The job shown heads the list of earlier ones, to open again later.
  const earlier = page.getByTestId("earlier-jobs");
  await expect(earlier.locator("summary")).toHaveText(/^Earlier schedules \(\d+\)$/);
  await expect(earlier.locator("tbody tr").first()).toContainText("shown");
  // What it was: the plant, the objective and the solver.
  await expect(earlier.locator("tbody tr").first()).toContainText(/Stamping and body-in-white joining · \S+ · dispatch, at most /);
  // What no plan can beat, and how much a better plan could win at most.
  await expect(page.getByTestId("plan-bound")).toContainText(/Whatever the plan: at least \d+ orders? late, weighted tardiness at least \d+ h \d\d min, makespan at least \d+ h \d\d min/);
  await expect(page.getByTestId("plan-bound")).toContainText(/A better plan could cut the weighted tardiness by at most \d+\.\d %/);
  // Hovering an operation tells when the robustness check's runs finished its order.
  const chart = page.getByTestId("gantt");
  const box = (await chart.boundingBox())!;
  let tip = "";
  for (let x = box.x + 135; x < box.x + box.width - 35 && !tip.includes("simulated runs"); x += 3) {
    await page.mouse.move(x, box.y + 35);
    tip = await chart.innerText();
  }
  expect(tip).toMatch(/In 5 simulated runs: finished \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d/);
  await page.mouse.move(0, 0);
  // The CSV export holds every operation.
  const download = page.waitForEvent("download");
  await page.getByRole("button", { name: "export CSV" }).click();
  const file = await (await download).path();
  const lines = readFileSync(file, "utf8").trim().split("\n");
  expect(lines[0]).toContain("order,step,product");
  expect(lines.length).toBeGreaterThan(ids.length);
  await page.screenshot({ path: "test-results/schedule.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

test("a plant whose order book is a CSV file is planned with the book chosen beside it", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!);
  await page.goto("/#/schedule");
  await page.getByTestId("scenario-file").setInputFiles("../scenarios/injection-moulding.toml");
  // The scenario names its book: the page asks for that file by name.
  await expect(page.getByText("Its order book: injection-moulding-orders.csv")).toBeVisible();
  await page.getByTestId("order-book-file").setInputFiles("../scenarios/injection-moulding-orders.csv");
  await expect(page.getByText("Using injection-moulding.toml with its order book.")).toBeVisible();
  await page.getByLabel("Solver").selectOption("dispatch");
  await page.getByLabel("Robustness runs").fill("0");
  await page.getByRole("button", { name: "Plan", exact: true }).click();
  await expect(page.getByTestId("gantt")).toBeVisible({ timeout: 60_000 });
  const book = readFileSync("../scenarios/injection-moulding-orders.csv", "utf8").trim().split("\n").slice(1);
  await expect(page.getByTestId("plan-orders").locator("tbody tr")).toHaveCount(book.length);
  await page.screenshot({ path: "test-results/schedule-order-book.png", fullPage: true });
  expect(problems).toEqual([]);
});

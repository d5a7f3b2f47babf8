// The scenario view: a shipped plant drawn from its file; a broken one with its problems at their
// lines.
import { expect, test } from "@playwright/test";
import { expectAccessible } from "./axe";
import { watch } from "./watch";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

test("a valid plant is drawn from its file and can be stored; a broken one shows its problems at their lines", async ({ page, baseURL }) => {
  const problems = watch(page, baseURL!, 422);
  // Other tests may have stored forging shops of their own (a planned one): count those first.
  const forgingShops = async () =>
    ((await (await page.request.get("/scenarios")).json()) as { name: string }[]).filter((s) => /forg/i.test(s.name)).length;
  const before = await forgingShops();
  await page.goto("/#/scenario");
  await page.getByTestId("scenario-file").setInputFiles("../scenarios/forging-shop.toml");
  await expect(page.getByTestId("scenario-valid")).toBeVisible();
  await expect(page.getByTestId("plant-graph")).toBeVisible();
  await page.getByRole("button", { name: "store on the server" }).click();
  await expect(page.getByRole("button", { name: "stored on the server" })).toBeVisible();
  await page.screenshot({ path: "test-results/scenario.png", fullPage: true });
  await expectAccessible(page);
  // The stored plant is offered by the schedule board.
  await page.goto("/#/schedule");
  await expect(page.locator("select option", { hasText: /forg/i })).toHaveCount(before + 1);

  const broken = readFileSync("../scenarios/reference-line.toml", "utf8").replace(
    '{ station = "M2", process_time = 0.85 }',
    '{ station = "M9", process_time = 0.85 }',
  );
  const lineOfM9 = broken.split("\n").findIndex((l) => l.includes('"M9"')) + 1;
  const dir = mkdtempSync(join(tmpdir(), "takt-scenario-"));
  writeFileSync(join(dir, "broken.toml"), broken);
  await page.goto("/#/scenario");
  await page.getByTestId("scenario-file").setInputFiles(join(dir, "broken.toml"));
  const found = page.getByTestId("scenario-problems");
  await expect(found).toBeVisible();
  await expect(found.getByRole("link", { name: `line ${lineOfM9}` })).toBeVisible();
  await expect(page.locator(`#line-${lineOfM9}`)).toHaveClass(/bad-line/);
  await expect(page.locator(`#line-${lineOfM9}`)).toContainText("M9");
  await page.screenshot({ path: "test-results/scenario-broken.png", fullPage: true });
  await expectAccessible(page);
  expect(problems).toEqual([]);
});

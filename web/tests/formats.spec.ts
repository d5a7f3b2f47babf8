// The screens' formats (src/format.ts) against the table of cases the library is checked against
// too (crates/takt-model/tests/formats.json, written by hand): a figure reads the same on a
// screen, in `takt run` and in the HTML reports. The module runs in chromium, whose Intl is
// the one the screens use.
import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import ts from "typescript";

const table: unknown = JSON.parse(readFileSync(new URL("../../crates/takt-model/tests/formats.json", import.meta.url), "utf8"));

test("every quantity reads on the screens as the shared table says", async ({ page }) => {
  const source = readFileSync(new URL("../src/format.ts", import.meta.url), "utf8");
  const module = ts.transpileModule(source, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022 } }).outputText;
  await page.setContent("<!doctype html><title>formats</title>");
  await page.addScriptTag({ type: "module", content: `${module}\nwindow.formats = { duration, percent, grouped, significant, value, change, estimate, changeWithin, relativeChange, money };` });
  await page.waitForFunction(() => "formats" in window);
  const wrong: string[] = await page.evaluate((cases) => {
    type Formats = Record<string, (...args: unknown[]) => string | null>;
    const f = (window as unknown as { formats: Formats }).formats;
    type Case = Record<string, unknown> & { text: string | null };
    const runs: [string, (c: Case) => unknown[]][] = [
      ["duration", (c) => [c.x]],
      ["percent", (c) => [c.x]],
      ["grouped", (c) => [c.x, c.decimals]],
      ["significant", (c) => [c.x, c.digits]],
      ["value", (c) => [c.quantity, c.x]],
      ["change", (c) => [c.quantity, c.d]],
      ["estimate", (c) => [c.quantity, c.mean, c.h]],
      ["change_within", (c) => [c.quantity, c.d, c.h]],
      ["relative_change", (c) => [c.base, c.d, c.h]],
      ["money", (c) => [c.x, c.currency]],
    ];
    const name = (key: string) => key.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());
    const out: string[] = [];
    let checked = 0;
    for (const [key, args] of runs) {
      for (const c of (cases as Record<string, Case[]>)[key] ?? []) {
        const written = f[name(key)]!(...args(c));
        checked += 1;
        if (written !== c.text) out.push(`${key} ${JSON.stringify(args(c))}: wrote ${JSON.stringify(written)}, the table says ${JSON.stringify(c.text)}`);
      }
    }
    if (checked < 80) out.push(`only ${checked} cases read`);
    return out;
  }, table);
  expect(wrong, wrong.join("\n")).toEqual([]);
});

// What every screen test holds a page to: no console error and no uncaught exception, and no
// request that leaves the server under test (blob: and data: are the page's own files).
import type { Page } from "@playwright/test";

/**
 * The problems seen on `page` so far (the test ends with `expect(problems).toEqual([])`).
 * `allowedStatus`: an HTTP status the test provokes on purpose (a 422 for a bad value), whose
 * console line is expected.
 */
export function watch(page: Page, baseURL: string, allowedStatus?: number): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    if (allowedStatus && m.text().includes(`status of ${allowedStatus}`)) return;
    problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("request", (r) => {
    const url = r.url();
    if (!url.startsWith(baseURL) && !url.startsWith("data:") && !url.startsWith("blob:")) problems.push(`request left the server: ${url}`);
  });
  return problems;
}

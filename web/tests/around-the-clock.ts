// The shipped bottling line with a calendar that runs around the clock, every day: the browser
// tests post events stamped with the wall clock, and what the board shows must not depend on the
// hour or the weekday the suite runs at (the shipped line runs two shifts, Monday to Friday; a run
// at 22:10 on a Friday found every figure of a shift that had ended). The board between shifts is
// tested on its own, with the shipped calendar and events dated on a Sunday.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SHIPPED = "../scenarios/bottling-line.toml";

const CALENDAR = /\[calendar\]\nshifts = \[\n[^\]]*\]\n(breaks = \[[^\n]*\]\n)?/;

const AROUND_THE_CLOCK = `[calendar]
shifts = [
  { name = "early", days = "daily", start = "06:00", end = "14:00" },
  { name = "late", days = "daily", start = "14:00", end = "22:00" },
  { name = "night", days = "daily", start = "22:00", end = "06:00" },
]
`;

/** Writes the variant of `scenario` (the bottling line by default) into a folder of its own and
 * returns its path. */
export function aroundTheClock(scenario: string = SHIPPED): string {
  const shipped = readFileSync(scenario, "utf8");
  if (!CALENDAR.test(shipped)) throw new Error(`${scenario}: its [calendar] table is not where the browser tests expect it; update tests/around-the-clock.ts`);
  const name = scenario.split("/").pop()!.replace(/\.toml$/, "");
  const path = join(mkdtempSync(join(tmpdir(), "takt-web-scenario-")), `${name}-around-the-clock.toml`);
  writeFileSync(path, shipped.replace(CALENDAR, AROUND_THE_CLOCK));
  return path;
}

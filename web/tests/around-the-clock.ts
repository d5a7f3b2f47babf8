// The shipped bottling line with a calendar that runs around the clock, every day: the browser
// tests post events stamped with the wall clock, and what the board shows must not depend on the
// hour or the weekday the suite runs at (the shipped line runs two shifts, Monday to Friday; a run
// at 22:10 on a Friday found every figure of a shift that had ended). The board between shifts is
// tested on its own, with the shipped calendar and events dated on a Sunday.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SHIPPED = "../scenarios/bottling-line.toml";

const CALENDAR = /\[calendar\]\nshifts = \[\n[^\]]*\]\nbreaks = \[[^\n]*\]\n/;

const AROUND_THE_CLOCK = `[calendar]
shifts = [
  { name = "early", days = "daily", start = "06:00", end = "14:00" },
  { name = "late", days = "daily", start = "14:00", end = "22:00" },
  { name = "night", days = "daily", start = "22:00", end = "06:00" },
]
`;

/** Writes the variant into a folder of its own and returns its path. */
export function aroundTheClock(): string {
  const shipped = readFileSync(SHIPPED, "utf8");
  if (!CALENDAR.test(shipped)) throw new Error(`${SHIPPED}: its [calendar] table is not where the browser tests expect it; update tests/around-the-clock.ts`);
  const path = join(mkdtempSync(join(tmpdir(), "takt-web-scenario-")), "bottling-line-around-the-clock.toml");
  writeFileSync(path, shipped.replace(CALENDAR, AROUND_THE_CLOCK));
  return path;
}

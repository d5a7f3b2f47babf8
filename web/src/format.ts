// One presentation per quantity, on every screen: durations in h and min with the unit, fractions
// as percent, counts as integers with thousands separators, times in plant time as ISO dates.
// The same rules as the library's `takt_model::quantity` (the CLI's tables and the HTML reports),
// function for function: both are checked against one table of cases written by hand
// (crates/takt-model/tests/formats.json; web/tests/formats.spec.ts runs it in chromium).
import type { Schemas } from "./api";

/** What a figure measures, as the API names it beside each KPI. */
export type Quantity = Schemas["Quantity"];

/** The minus sign people read (U+2212), not a hyphen. */
export const MINUS = "\u2212";

const fixedFormats = new Map<number, Intl.NumberFormat>();

/**
 * A number with `decimals` decimals and thousands separators: "3,056.2", "−0.4". Intl rounds it
 * as written in its shortest form, half away from zero (2.25 reads "2.3"), as the library does.
 */
export function grouped(x: number, decimals: number): string {
  if (!Number.isFinite(x)) return "–";
  let format = fixedFormats.get(decimals);
  if (!format) {
    format = new Intl.NumberFormat("en-GB", { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
    fixedFormats.set(decimals, format);
  }
  const text = format.format(Math.abs(x));
  return x < 0 && /[1-9]/.test(text) ? `${MINUS}${text}` : text;
}

/** A number with `digits` significant digits, never in scientific notation, integer digits kept: "0.000121", "12.3", "1,235". */
export function significant(x: number, digits: number): string {
  if (!Number.isFinite(x)) return "–";
  if (x === 0) return "0";
  const magnitude = Math.floor(Math.log10(Math.abs(x)));
  return grouped(x, Math.min(12, Math.max(0, digits - 1 - magnitude)));
}

/** A count of pieces, orders, events: an integer, with thousands separators. */
export function count(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? "–" : grouped(n, 0);
}

/** A fraction (0 to 1) as percent with one decimal. */
export function percent(x: number | null | undefined): string {
  return x == null || !Number.isFinite(x) ? "–" : `${grouped(x * 100, 1)} %`;
}

/** A duration in seconds: "2 h 05 min", "12 min", "6.4 min", "45 s", "2.4 s", "0.545 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const sign = seconds < 0 ? MINUS : "";
  const s = Math.abs(seconds);
  if (s === 0) return "0 s";
  if (s < 1) return `${sign}${significant(s, 3)} s`;
  if (s < 10) return `${sign}${grouped(s, 1)} s`;
  if (s < 59.5) return `${sign}${grouped(s, 0)} s`;
  if (s < 599.5) return `${sign}${grouped(s / 60, 1)} min`;
  if (s < 3570) return `${sign}${grouped(s / 60, 0)} min`;
  const minutes = Math.round(s / 60);
  return `${sign}${grouped(Math.floor(minutes / 60), 0)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/** Whole seconds, minutes, hours or days between a duration axis's ticks (the library's `duration_ticks`). */
const DURATION_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 14400, 21600, 43200, 86400, 172_800, 604_800];

/** The step between ticks of a duration axis from 0 to `high` seconds, at most `most` ticks: "5 min", not "8.3 min". */
export function durationStep(high: number, most = 6): number | undefined {
  if (!(high >= 2)) return undefined;
  return DURATION_STEPS.find((step) => Math.ceil(high / step) < most);
}

/** The unit written after a number of this quantity ("" for durations, which carry their own). */
export function unit(q: Quantity): string {
  const units: Record<Quantity, string> = {
    share: "%",
    duration: "",
    rate_per_hour: "parts/h",
    parts: "parts",
    energy: "kWh",
    energy_per_part: "Wh/part",
    count: "",
    money: "",
    number: "",
  };
  return units[q];
}

/** The unit of a change: percentage points for shares. */
export function changeUnit(q: Quantity): string {
  return q === "share" ? "pp" : unit(q);
}

function withUnit(text: string, u: string): string {
  return u ? `${text} ${u}` : text;
}

/** The number alone, without sign handling or unit (durations excepted: they are whole). */
function bare(q: Quantity, x: number): string {
  switch (q) {
    case "duration":
      return duration(x);
    case "share":
      return grouped(x * 100, 1);
    case "count":
      return Math.abs(x - Math.round(x)) < 1e-9 || Math.abs(x) >= 100 ? grouped(x, 0) : grouped(x, 1);
    case "money":
      return grouped(x, 0);
    case "energy_per_part":
      return significant(x * 1000, 3);
    case "number":
      return significant(x, 3);
    default:
      return grouped(x, 1);
  }
}

/** A number next to a half-width: to the half-width's precision (two significant digits) where the quantity has no fixed decimals. */
function bareTo(q: Quantity, x: number, h: number): string {
  if (q === "count" && h >= 1) return grouped(x, 0);
  if (q !== "energy_per_part" && q !== "number") return bare(q, x);
  const scale = q === "energy_per_part" ? 1000 : 1;
  const decimals = Math.min(12, Math.max(0, 1 - Math.floor(Math.log10(Math.abs(h * scale)))));
  return grouped(x * scale, decimals);
}

/** A magnitude with the sign of `d`; none where it reads as zero ("0.0", not "−0.0"). */
export function signed(d: number, magnitude: string): string {
  if (d === 0 || /^[0., ]*$/.test(magnitude)) return magnitude;
  return `${d > 0 ? "+" : MINUS}${magnitude}`;
}

/** A value in its unit: "3,056.2 parts/h", "59.4 %", "2 h 05 min", "24,496"; "–" when absent. */
export function value(q: Quantity, x: number | null | undefined): string {
  return x == null || !Number.isFinite(x) ? "–" : withUnit(bare(q, x), unit(q));
}

/** A signed change in its unit: "+12.3 parts/h", "−1.2 pp", "+4.0 min", "0.0 pp". */
export function change(q: Quantity, d: number | null | undefined): string {
  return d == null || !Number.isFinite(d) ? "–" : withUnit(signed(d, bare(q, Math.abs(d))), changeUnit(q));
}

function halfWidthOf(h: number | null | undefined): h is number {
  return h != null && Number.isFinite(h) && h > 0;
}

/** A mean with its 95 % half-width, the unit once: "59.4 ± 0.3 %", "3 h 00 min ± 16 min"; the value alone without one. */
export function estimate(q: Quantity, mean: number | null | undefined, h: number | null | undefined): string {
  if (mean == null || !Number.isFinite(mean) || !halfWidthOf(h)) return value(q, mean);
  return withUnit(`${bareTo(q, mean, h)} ± ${bareTo(q, h, h)}`, unit(q));
}

/** A signed change with its 95 % half-width, the unit once: "−1.2 ± 0.3 pp", "−13 min ± 8.0 min". */
export function changeWithin(q: Quantity, d: number | null | undefined, h: number | null | undefined): string {
  if (d == null || !Number.isFinite(d) || !halfWidthOf(h)) return change(q, d);
  return withUnit(`${signed(d, bareTo(q, Math.abs(d), h))} ± ${bareTo(q, h, h)}`, changeUnit(q));
}

/** A relative change with its half-width, in percent of the base: "+2.1 % ± 0.4 %"; null where the base is 0 or absent. */
export function relativeChange(base: number | null | undefined, d: number, h: number | null | undefined): string | null {
  if (base == null || !Number.isFinite(base) || Math.abs(base) <= 1e-12 || !Number.isFinite(d)) return null;
  const r = (100 * d) / Math.abs(base);
  const half = halfWidthOf(h) ? ` ± ${grouped((100 * h) / Math.abs(base), 1)} %` : "";
  return `${signed(r, grouped(Math.abs(r), 1))} %${half}`;
}

/** An amount in its currency, whole units with separators: "14,475 EUR"; "–" when absent. */
export function money(amount: number | null | undefined, currency: string): string {
  return amount == null || !Number.isFinite(amount) ? "–" : withUnit(value("money", amount), currency);
}

/** How long ago, `ms` milliseconds by this screen's own clock (the plant's clock may be a replay's). */
export function ago(ms: number): string {
  return `${duration(Math.max(ms, 0) / 1000)} ago`;
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** Unix ms in plant time (offset in minutes east of UTC): "2026-01-05 06:01". */
export function plantTime(ms: number | null | undefined, offsetMin: number, seconds = false): string {
  if (ms == null || !Number.isFinite(ms)) return "–";
  const d = new Date(ms + offsetMin * 60_000);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${seconds ? `:${pad(d.getUTCSeconds())}` : ""}`;
  return `${day} ${time}`;
}

/** Only the clock of a plant time: "06:01". */
export function plantClock(ms: number | null | undefined, offsetMin: number): string {
  return plantTime(ms, offsetMin).slice(11);
}

/** The plant's offset as written in ISO 8601: "+01:00". */
export function offsetText(offsetMin: number): string {
  const sign = offsetMin < 0 ? "−" : "+";
  const m = Math.abs(offsetMin);
  return `UTC${sign}${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
}

/** The offset of an RFC 3339 time ("...+01:00" or "Z"), minutes east of UTC. */
export function offsetOf(rfc3339: string): number {
  const m = /([+-])(\d\d):(\d\d)$/.exec(rfc3339);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

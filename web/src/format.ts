// One presentation per quantity, on every screen: durations in h and min with the unit, fractions
// as percent, counts as integers with thousands separators, times in plant time as ISO dates.
// The same rules as the library's `takt_model::quantity` (the CLI's tables and the HTML reports).

const integer = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });

/** A count of pieces, orders, events: an integer, with thin separators. */
export function count(n: number | null | undefined): string {
  return n == null || !Number.isFinite(n) ? "–" : integer.format(Math.round(n));
}

/** A fraction (0 to 1) as percent with one decimal. */
export function percent(x: number | null | undefined): string {
  return x == null || !Number.isFinite(x) ? "–" : `${(x * 100).toFixed(1)} %`;
}

/** A duration in seconds: "2 h 05 min", "12 min", "6.4 min", "45 s", "2.4 s", "0.545 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds)) return "–";
  const sign = seconds < 0 ? "−" : "";
  const s = Math.abs(seconds);
  if (s === 0) return "0 s";
  if (s < 1) return `${sign}${s.toLocaleString("en-GB", { maximumSignificantDigits: 3 })} s`;
  if (s < 10) return `${sign}${s.toFixed(1)} s`;
  if (s < 59.5) return `${sign}${Math.round(s)} s`;
  if (s < 599.5) return `${sign}${(s / 60).toFixed(1)} min`;
  if (s < 3570) return `${sign}${Math.round(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const min = Math.round((s - h * 3600) / 60);
  return min === 60 ? `${sign}${h + 1} h 00 min` : `${sign}${h} h ${String(min).padStart(2, "0")} min`;
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

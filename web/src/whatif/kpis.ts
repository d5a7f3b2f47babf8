// A what-if KPI in its unit: one format per quantity (the same as on every other screen), the
// difference to the base in that unit and relative to the base, and the decision in words.
import type { Schemas } from "../api";
import { csvField } from "../download";
import { duration, percent } from "../format";

export type Experiment = Schemas["Experiment"];
export type VariantResult = Schemas["VariantResult"];
export type Estimate = Schemas["Estimate"];

type Kind = "fraction" | "seconds" | "rate" | "parts" | "energy" | "number";

function kindOf(key: string): Kind {
  if (/\.(oee|availability|performance|quality)$/.test(key) || key.endsWith("_rate")) return "fraction";
  if (key.endsWith("_s")) return "seconds";
  if (key === "throughput_per_hour") return "rate";
  if (key === "wip_mean") return "parts";
  if (key.startsWith("energy_kwh")) return "energy";
  return "number";
}

function fixed(x: number, digits: number): string {
  return x.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Small quantities (energy per part) keep three significant digits instead of a fixed count. */
function significant(x: number): string {
  return x.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

/** The unit a KPI's axis is labelled with. */
export function unitOf(key: string): string {
  return { fraction: "%", seconds: "time", rate: "parts/h", parts: "parts", energy: "kWh/part", number: "" }[kindOf(key)];
}

/** A KPI's value in its unit: "1 234.5 parts/h", "87.2 %", "2 h 05 min". */
export function kpiValue(key: string, x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return "–";
  switch (kindOf(key)) {
    case "fraction":
      return percent(x);
    case "seconds":
      return duration(x);
    case "rate":
      return `${fixed(x, 1)} parts/h`;
    case "parts":
      return `${fixed(x, 1)} parts`;
    case "energy":
      return `${significant(x)} kWh/part`;
    default:
      return fixed(x, 3);
  }
}

/** A change of a KPI, signed, in its unit: "+12.3 parts/h", "−1.2 pp", "+4 min". */
export function kpiChange(key: string, d: number | null | undefined): string {
  if (d == null || !Number.isFinite(d)) return "–";
  const sign = d > 0 ? "+" : d < 0 ? "−" : "";
  const a = Math.abs(d);
  switch (kindOf(key)) {
    case "fraction":
      return `${sign}${fixed(a * 100, 1)} pp`;
    case "seconds":
      return `${sign}${duration(a)}`;
    default:
      return `${sign}${kpiValue(key, a)}`;
  }
}

/** A half-width in the KPI's unit, unsigned: "± 0.4 parts/h". */
export function kpiHalfWidth(key: string, h: number | null | undefined): string {
  if (h == null || !Number.isFinite(h)) return "";
  return `± ${kindOf(key) === "fraction" ? `${fixed(h * 100, 1)} pp` : kpiValue(key, h)}`;
}

/** A change with its half-width, the unit once: "−283.4 ± 183.4 parts", "+1.2 ± 0.3 pp", "−13 min ± 8 min". */
export function kpiChangeWithin(key: string, d: number | null | undefined, h: number | null | undefined): string {
  const change = kpiChange(key, d);
  if (h == null || !Number.isFinite(h) || change === "–") return change;
  const kind = kindOf(key);
  if (kind === "seconds") return `${change} ± ${duration(h)}`;
  const unit = kind === "fraction" ? "pp" : unitOf(key);
  const number = (v: number) => (kind === "fraction" ? fixed(v * 100, 1) : kind === "energy" ? significant(v) : kind === "number" ? fixed(v, 3) : fixed(v, 1));
  const sign = d! > 0 ? "+" : d! < 0 ? "−" : "";
  return `${sign}${number(Math.abs(d!))} ± ${number(h)}${unit ? ` ${unit}` : ""}`;
}

/** "1 234.5 ± 3.2 parts/h": a mean with its 95 % half-width. */
export function kpiEstimate(key: string, mean: number | null | undefined, ci95: number | null | undefined): string {
  const value = kpiValue(key, mean);
  if (ci95 == null || !Number.isFinite(ci95) || value === "–") return value;
  return `${value} ${kpiHalfWidth(key, ci95)}`;
}

/** A KPI's label for people: the library's, less a "(s)" (durations show their own units here). */
export function labelOf(x: Experiment, key: string): string {
  return (x.kpis.find(([k]) => k === key)?.[1] ?? key).replace(/ \(s\)$/, "");
}

export function estimateOf(v: VariantResult, key: string): Estimate | undefined {
  return v.estimates.find((e) => e.key === key);
}

/** A relative change with its half-width: "+2.1 % ± 0.4 %" (none where the base is 0). */
export function relative(base: number | null | undefined, d: number, h: number | null | undefined): string | null {
  if (base == null || !Number.isFinite(base) || Math.abs(base) < 1e-12) return null;
  const r = (100 * d) / Math.abs(base);
  const sign = r > 0 ? "+" : r < 0 ? "−" : "±";
  const half = h != null && Number.isFinite(h) ? ` ± ${fixed((100 * h) / Math.abs(base), 1)} %` : "";
  return `${sign}${fixed(Math.abs(r), 1)} %${half}`;
}

/**
 * The decision in words for one variant and KPI: "bigger conveyors: throughput per hour +2.1 % ±
 * 0.4 % (+21.4 ± 4.1 parts/h), significant". A change whose 95 % interval covers zero is called
 * "no significant change", never shown as a gain; shares (OEE, on time) change in points, not in
 * percent of themselves.
 */
export function decision(x: Experiment, v: VariantResult, key: string): { words: string; significant: boolean } {
  const label = labelOf(x, key);
  const base = estimateOf(x.variants[0]!, key);
  const d = estimateOf(v, key)?.difference;
  if (!d) return { words: `${v.name}: ${label} not measured`, significant: false };
  if (d.mean === 0 && (d.ci95 ?? 0) === 0) {
    return { words: `${v.name}: ${label} the same as the base in every replication`, significant: false };
  }
  const absolute = kpiChangeWithin(key, d.mean, d.ci95);
  const rel = kindOf(key) === "fraction" ? null : relative(base?.mean, d.mean, d.ci95);
  const change = rel ? `${rel} (${absolute})` : absolute;
  const verdict = d.significant ? "significant" : "no significant change: the 95 % interval includes 0";
  return { words: `${v.name}: ${label} ${change}, ${verdict}`, significant: d.significant };
}

/** Every estimate of every variant as CSV rows (for a spreadsheet). */
export function experimentCsv(x: Experiment): string {
  const rows = [["variant", "kpi", "label", "mean", "ci95", "difference", "difference_ci95", "significant"].join(",")];
  const n = (v: number | null | undefined) => (v == null || !Number.isFinite(v) ? "" : String(v));
  for (const v of x.variants) {
    for (const e of v.estimates) {
      const label = x.kpis.find(([k]) => k === e.key)?.[1] ?? e.key;
      rows.push(
        [csvField(v.name), csvField(e.key), csvField(label), n(e.mean), n(e.ci95), n(e.difference?.mean), n(e.difference?.ci95), e.difference ? String(e.difference.significant) : ""].join(","),
      );
    }
  }
  return rows.join("\n") + "\n";
}

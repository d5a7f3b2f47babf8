// A what-if KPI in its unit: one format per quantity (the same as on every other screen and in
// the library's `takt_model::quantity`, whose Quantity the API sends with each KPI), the
// difference to the base in that unit and relative to the base, and the decision in words.
import type { Schemas } from "../api";
import { csvField } from "../download";
import { duration, percent } from "../format";

export type Experiment = Schemas["Experiment"];
export type VariantResult = Schemas["VariantResult"];
export type Estimate = Schemas["Estimate"];
export type Kpi = Schemas["KpiColumn"];
export type Quantity = Schemas["Quantity"];

/** The KPI of an experiment by key, with its label and quantity (a plain number when unknown). */
export function kpiOf(x: Experiment, key: string): Kpi {
  return x.kpis.find((k) => k.key === key) ?? { key, label: key, quantity: "number" };
}

function fixed(x: number, digits: number): string {
  return x.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Small quantities (energy per part) keep three significant digits instead of a fixed count. */
function significant(x: number): string {
  return x.toLocaleString("en-GB", { maximumSignificantDigits: 3 });
}

/** The unit a KPI's axis is labelled with ("time" for durations, which name their own). */
export function unitOf(kpi: Kpi): string {
  const units: Record<Quantity, string> = {
    share: "%",
    duration: "time",
    rate_per_hour: "parts/h",
    parts: "parts",
    energy: "kWh",
    energy_per_part: "Wh/part",
    count: "",
    money: "",
    number: "",
  };
  return units[kpi.quantity];
}

/** The factor from the API's SI figure to what people read (kWh per part in Wh). */
function scaled(kpi: Kpi, x: number): number {
  return kpi.quantity === "energy_per_part" ? x * 1000 : x;
}

/** A KPI's value in its unit: "1 234.5 parts/h", "87.2 %", "2 h 05 min". */
export function kpiValue(kpi: Kpi, x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return "–";
  switch (kpi.quantity) {
    case "share":
      return percent(x);
    case "duration":
      return duration(x);
    case "rate_per_hour":
      return `${fixed(x, 1)} parts/h`;
    case "parts":
      return `${fixed(x, 1)} parts`;
    case "energy":
      return `${fixed(x, 1)} kWh`;
    case "energy_per_part":
      return `${significant(scaled(kpi, x))} Wh/part`;
    case "count":
      return Number.isInteger(x) || Math.abs(x) >= 100 ? fixed(x, 0) : fixed(x, 1);
    default:
      return significant(x);
  }
}

/** A change of a KPI, signed, in its unit: "+12.3 parts/h", "−1.2 pp", "+4 min". */
export function kpiChange(kpi: Kpi, d: number | null | undefined): string {
  if (d == null || !Number.isFinite(d)) return "–";
  const sign = d > 0 ? "+" : d < 0 ? "−" : "";
  const a = Math.abs(d);
  switch (kpi.quantity) {
    case "share":
      return `${sign}${fixed(a * 100, 1)} pp`;
    case "duration":
      return `${sign}${duration(a)}`;
    default:
      return `${sign}${kpiValue(kpi, a)}`;
  }
}

/**
 * A number beside a half-width `h`, both in the unit people read: quantities without a fixed
 * number of decimals go to the half-width's precision (two significant digits), as the library's
 * tables do, so that "14.53 ± 0.12" never reads "14.5 ± 0.121" or "−0.000946".
 */
function numberWithin(kpi: Kpi, v: number, h: number): string {
  switch (kpi.quantity) {
    case "share":
      return fixed(v * 100, 1);
    case "energy_per_part":
    case "number": {
      const width = Math.abs(scaled(kpi, h));
      const digits = width > 0 ? Math.min(12, Math.max(0, 1 - Math.floor(Math.log10(width)))) : 3;
      return fixed(scaled(kpi, v), digits);
    }
    case "count":
      return h >= 1 ? fixed(v, 0) : fixed(v, 1);
    default:
      return fixed(v, 1);
  }
}

/** A change with its half-width, the unit once: "−283.4 ± 183.4 parts", "+1.2 ± 0.3 pp", "−13 min ± 8.0 min". */
export function kpiChangeWithin(kpi: Kpi, d: number | null | undefined, h: number | null | undefined): string {
  const change = kpiChange(kpi, d);
  if (h == null || !Number.isFinite(h) || h === 0 || change === "–") return change;
  if (kpi.quantity === "duration") return `${change} ± ${duration(h)}`;
  const unit = kpi.quantity === "share" ? "pp" : unitOf(kpi);
  const sign = d! > 0 ? "+" : d! < 0 ? "−" : "";
  return `${sign}${numberWithin(kpi, Math.abs(d!), h)} ± ${numberWithin(kpi, h, h)}${unit ? ` ${unit}` : ""}`;
}

/** "1 234.5 ± 3.2 parts/h", "59.4 ± 0.3 %", "2 h 05 min ± 12 min": a mean with its 95 % half-width, the unit once. */
export function kpiEstimate(kpi: Kpi, mean: number | null | undefined, ci95: number | null | undefined): string {
  const value = kpiValue(kpi, mean);
  if (ci95 == null || !Number.isFinite(ci95) || ci95 === 0 || value === "–") return value;
  if (kpi.quantity === "duration") return `${value} ± ${duration(ci95)}`;
  const unit = unitOf(kpi);
  return `${numberWithin(kpi, mean!, ci95)} ± ${numberWithin(kpi, ci95, ci95)}${unit ? ` ${unit}` : ""}`;
}

/** A KPI's label for people, as the library names it. */
export function labelOf(x: Experiment, key: string): string {
  return kpiOf(x, key).label;
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
 * The decision in words for one variant and KPI: "bigger conveyors: throughput +2.1 % ±
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
  const kpi = kpiOf(x, key);
  const absolute = kpiChangeWithin(kpi, d.mean, d.ci95);
  const rel = kpi.quantity === "share" ? null : relative(base?.mean, d.mean, d.ci95);
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
      const label = labelOf(x, e.key);
      rows.push(
        [csvField(v.name), csvField(e.key), csvField(label), n(e.mean), n(e.ci95), n(e.difference?.mean), n(e.difference?.ci95), e.difference ? String(e.difference.significant) : ""].join(","),
      );
    }
  }
  return rows.join("\n") + "\n";
}

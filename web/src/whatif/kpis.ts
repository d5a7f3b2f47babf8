// A what-if KPI in its unit: one format per quantity (the same as on every other screen and in
// the library's `takt_model::quantity`, whose Quantity the API sends with each KPI), the
// difference to the base in that unit and relative to the base, and the decision in words.
import type { Schemas } from "../api";
import { csvField } from "../download";
import { changeWithin, estimate, relativeChange, unit, value } from "../format";

export type Experiment = Schemas["Experiment"];
export type VariantResult = Schemas["VariantResult"];
export type Estimate = Schemas["Estimate"];
export type Kpi = Schemas["KpiColumn"];

/** The KPI of an experiment by key, with its label and quantity (a plain number when unknown). */
export function kpiOf(x: Experiment, key: string): Kpi {
  return x.kpis.find((k) => k.key === key) ?? { key, label: key, quantity: "number" };
}

/** The unit a KPI's axis is labelled with ("time" for durations, which name their own). */
export function unitOf(kpi: Kpi): string {
  return kpi.quantity === "duration" ? "time" : unit(kpi.quantity);
}

/** A KPI's value in its unit: "1,234.5 parts/h", "87.2 %", "2 h 05 min". */
export function kpiValue(kpi: Kpi, x: number | null | undefined): string {
  return value(kpi.quantity, x);
}

/** A change with its half-width, the unit once: "−283.4 ± 183.4 parts", "+1.2 ± 0.3 pp", "−13 min ± 8.0 min". */
export function kpiChangeWithin(kpi: Kpi, d: number | null | undefined, h: number | null | undefined): string {
  return changeWithin(kpi.quantity, d, h);
}

/** "1,234.5 ± 3.2 parts/h", "59.4 ± 0.3 %", "2 h 05 min ± 12 min": a mean with its 95 % half-width, the unit once. */
export function kpiEstimate(kpi: Kpi, mean: number | null | undefined, ci95: number | null | undefined): string {
  return estimate(kpi.quantity, mean, ci95);
}

/** A KPI's label for people, as the library names it. */
export function labelOf(x: Experiment, key: string): string {
  return kpiOf(x, key).label;
}

export function estimateOf(v: VariantResult, key: string): Estimate | undefined {
  return v.estimates.find((e) => e.key === key);
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
  const rel = kpi.quantity === "share" ? null : relativeChange(base?.mean, d.mean, d.ci95);
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

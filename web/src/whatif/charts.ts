// The studio's charts: each variant's difference to the base with its 95 % interval around a zero
// line (not bars from zero), and a sweep as a response curve with its band.
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn } from "echarts";
import type { ChartOption } from "../chart";
import { duration, MINUS, signed } from "../format";
import { estimateOf, labelOf, kpiChangeWithin, kpiEstimate, kpiOf, kpiValue, unitOf, type Experiment, type Kpi, type VariantResult } from "./kpis";

const SIGNIFICANT = "#0072B2";
const NOT_SIGNIFICANT = "#7f7f7f";

/**
 * Axis numbers in the KPI's unit: fractions as percent (points), seconds as durations, kWh per
 * part in Wh (as the axis's name says); a change signed, a minus sign for negatives.
 */
function axisLabel(kpi: Kpi, change: boolean) {
  const q = kpi.quantity;
  const plain = (v: number) => Math.abs(v).toLocaleString("en-GB", { maximumFractionDigits: 3 });
  const sign = (v: number, text: string) => (change ? signed(v, text) : v < 0 ? `${MINUS}${text}` : text);
  if (q === "duration") return (v: number) => sign(v, duration(Math.abs(v)));
  if (q === "share") return (v: number) => `${sign(v, plain(v * 100))} ${change ? "pp" : "%"}`;
  const scale = q === "energy_per_part" ? 1000 : 1;
  return (v: number) => sign(v, plain(v * scale));
}

function axisName(x: Experiment, key: string, prefix: string): string {
  const label = labelOf(x, key);
  const unit = unitOf(kpiOf(x, key));
  return `${prefix}${label}${unit && unit !== "time" && unit !== "%" ? ` (${unit})` : ""}`;
}

type Whisker = { value: [row: number, mean: number, low: number, high: number]; significant: boolean; tip: string };

/** Each variant's paired difference to the base, with its 95 % interval; significant ones in colour. */
export function differencesOption(x: Experiment, key: string): ChartOption {
  const variants = x.variants.slice(1);
  const rows: Whisker[] = variants.map((v, i) => {
    const d = estimateOf(v, key)?.difference;
    const mean = d?.mean ?? NaN;
    const h = d?.ci95 ?? 0;
    return {
      value: [i, mean, mean - h, mean + h],
      significant: d?.significant ?? false,
      tip: `${v.name}<br/>${kpiChangeWithin(kpiOf(x, key), d?.mean, d?.ci95)} against the base<br/>${d?.significant ? "significant" : "not significant: the interval includes 0"}`,
    };
  });
  const render = (_: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
    const row = api.value(0) as number;
    const [xMean, y] = api.coord([api.value(1), row]) as [number, number];
    const [xLow] = api.coord([api.value(2), row]) as [number, number];
    const [xHigh] = api.coord([api.value(3), row]) as [number, number];
    const significant = rows[row]?.significant ?? false;
    const colour = significant ? SIGNIFICANT : NOT_SIGNIFICANT;
    const cap = 7;
    const line = { stroke: colour, lineWidth: 2 };
    return {
      type: "group",
      children: [
        { type: "line", shape: { x1: xLow, y1: y, x2: xHigh, y2: y }, style: line },
        { type: "line", shape: { x1: xLow, y1: y - cap, x2: xLow, y2: y + cap }, style: line },
        { type: "line", shape: { x1: xHigh, y1: y - cap, x2: xHigh, y2: y + cap }, style: line },
        { type: "circle", shape: { cx: xMean, cy: y, r: 5 }, style: { fill: significant ? colour : "#fff", stroke: colour, lineWidth: 2 } },
      ],
    };
  };
  // Symmetric about 0, so that the side of zero a change falls on is seen at once.
  const reach = Math.max(...rows.flatMap((r) => [Math.abs(r.value[2]), Math.abs(r.value[3])]).filter(Number.isFinite), 0);
  const edge = reach > 0 ? reach * 1.15 : unitOf(kpiOf(x, key)) === "%" ? 0.01 : 1;
  return {
    grid: { left: 190, right: 40, top: 20, bottom: 50 },
    tooltip: { trigger: "item", formatter: (p: { dataIndex: number }) => rows[p.dataIndex]?.tip ?? "" },
    xAxis: {
      type: "value",
      min: -edge,
      max: edge,
      name: axisName(x, key, "change of "),
      nameLocation: "middle",
      nameGap: 30,
      axisLabel: { formatter: axisLabel(kpiOf(x, key), true) },
    },
    yAxis: { type: "category", inverse: true, data: variants.map((v) => v.name), axisLabel: { width: 170, overflow: "truncate" } },
    series: [
      {
        type: "custom",
        renderItem: render,
        encode: { x: [1, 2, 3], y: 0 },
        data: rows.map((r) => r.value),
        markLine: { silent: true, symbol: "none", label: { formatter: "base" }, lineStyle: { color: "#111", type: "dashed" }, data: [{ xAxis: 0 }] },
      },
    ],
  };
}

/** The variants of a sweep: those with a sweep point, grouped by the values of any second field. */
export function sweepOf(x: Experiment): { path: string; lines: { name: string; points: { at: number; v: VariantResult }[] }[] } | null {
  const swept = x.variants.filter((v) => v.sweep_point.length > 0);
  if (swept.length < 2) return null;
  const path = swept[0]!.sweep_point[0]![0];
  const lines = new Map<string, { at: number; v: VariantResult }[]>();
  for (const v of swept) {
    const [p, at] = v.sweep_point[0]!;
    if (p !== path) continue;
    const rest = v.sweep_point
      .slice(1)
      .map(([q, value]) => `${q.split(".").pop()}=${value}`)
      .join(", ");
    lines.set(rest, [...(lines.get(rest) ?? []), { at, v }]);
  }
  return { path, lines: [...lines].map(([name, points]) => ({ name, points: points.sort((a, b) => a.at - b.at) })) };
}

const LINE_COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];

/** A KPI's mean over the swept field, each line with its 95 % band, and the base as a dashed line. */
export function responseOption(x: Experiment, key: string): ChartOption | null {
  const sweep = sweepOf(x);
  if (!sweep) return null;
  const base = estimateOf(x.variants[0]!, key);
  const series: Record<string, unknown>[] = [];
  sweep.lines.forEach((line, i) => {
    const colour = LINE_COLOURS[i % LINE_COLOURS.length]!;
    const stack = `band-${i}`;
    const pts = line.points.map(({ at, v }) => ({ at, e: estimateOf(v, key) }));
    series.push(
      { type: "line", stack, symbol: "none", lineStyle: { opacity: 0 }, tooltip: { show: false }, data: pts.map(({ at, e }) => [at, (e?.mean ?? NaN) - (e?.ci95 ?? 0)]) },
      {
        type: "line",
        stack,
        symbol: "none",
        lineStyle: { opacity: 0 },
        areaStyle: { color: colour, opacity: 0.18 },
        tooltip: { show: false },
        data: pts.map(({ at, e }) => [at, 2 * (e?.ci95 ?? 0)]),
      },
      {
        type: "line",
        name: line.name || axisName(x, key, ""),
        color: colour,
        symbolSize: 7,
        data: pts.map(({ at, e }) => [at, e?.mean ?? NaN]),
      },
    );
  });
  if (base?.mean != null) {
    series.push({
      type: "line",
      data: [],
      markLine: {
        silent: true,
        symbol: "none",
        lineStyle: { color: "#111", type: "dashed" },
        label: { formatter: `base ${kpiValue(kpiOf(x, key), base.mean)}`, position: "insideEndTop" },
        data: [{ yAxis: base.mean }],
      },
    });
  }
  const field = sweep.path.split(".").slice(-2).join(" ");
  return {
    grid: { left: 90, right: 40, top: 30, bottom: 50 },
    legend: sweep.lines.length > 1 ? { top: 0 } : undefined,
    tooltip: {
      trigger: "axis",
      formatter: (items: { seriesName: string; value: [number, number]; seriesIndex: number }[]) => {
        const shown = items.filter((i) => i.seriesIndex % 3 === 2);
        if (!shown.length) return "";
        const at = shown[0]!.value[0];
        return [
          `${field} = ${at}`,
          ...shown.map((i) => {
            const line = sweep.lines[Math.floor(i.seriesIndex / 3)];
            const e = estimateOf(line?.points.find((p) => p.at === at)?.v ?? x.variants[0]!, key);
            return `${line?.name ? `${line.name}: ` : ""}${kpiEstimate(kpiOf(x, key), e?.mean, e?.ci95)}`;
          }),
        ].join("<br/>");
      },
    },
    xAxis: {
      type: "value",
      scale: true,
      name: field,
      nameLocation: "middle",
      nameGap: 30,
      // Machine counts and capacities are whole: no ticks between them.
      minInterval: sweep.lines.every((l) => l.points.every((p) => Number.isInteger(p.at))) ? 1 : 0,
    },
    yAxis: { type: "value", scale: true, name: axisName(x, key, ""), axisLabel: { formatter: axisLabel(kpiOf(x, key), false) } },
    series,
  };
}

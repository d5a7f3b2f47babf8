// The plan as a Gantt chart: one row per machine, setups and processing told apart, off-shift time
// and planned maintenance shaded, late orders outlined; zoom and pan in time (wheel, drag, the
// slider); hover shows the operation in plant time with its units and, after a robustness check,
// when the simulated runs finished its order. Due dates of the orders on a machine show as marks
// on its row.
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn } from "echarts";
import { useMemo } from "preact/hooks";
import type { Schemas } from "../api";
import { Chart, type ChartOption } from "../chart";
import { count, duration, percent, plantTime } from "../format";

type Plan = Schemas["PlantSchedule"];

/** Okabe–Ito colours for products, in the plan's order; setups grey-blue, pauses grey. */
const PRODUCT_COLOURS = ["#0072B2", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999"];
const SETUP = "#8da9c4";
const PAUSE = "#d9d9d9";
const UNAVAILABLE = "#7f7f7f";

type Item = { value: [row: number, start: number, end: number, tip: number]; itemStyle: Record<string, unknown> };

export function Gantt(props: { plan: Plan; offset: number }) {
  const { plan, offset } = props;
  const option = useMemo<ChartOption>(() => {
    // The time axis counts plant time as if it were UTC (and the chart reads UTC), so that its
    // ticks fall on the plant's own hours and days.
    const t0 = Date.parse(plan.start) + offset * 60_000;
    const ms = (s: number) => t0 + s * 1000;
    const at = (v: number) => plantTime(v, 0);
    const machines = plan.machines.map((m) => m.machine);
    const row = new Map(machines.map((m, i) => [m, i]));
    const products = [...new Set(plan.operations.map((o) => o.product))];
    const colour = (p: string) => PRODUCT_COLOURS[products.indexOf(p) % PRODUCT_COLOURS.length]!;
    const late = new Set(plan.orders.filter((o) => o.late).map((o) => o.order));
    const due = new Map(plan.orders.map((o) => [o.order, o]));
    // The robustness check's spread per order: when the simulated runs finished it, and how often
    // on time.
    const spread = new Map((plan.robustness?.orders ?? []).map((o) => [o.order, o]));
    const simulated = (order: string): string => {
      const r = spread.get(order);
      if (!r) return "";
      const c = r.completion_s;
      const range = c.p10 != null && c.p90 != null ? `finished ${at(ms(c.p10))} to ${at(ms(c.p90))} (10th to 90th percentile)` : "";
      const onTime = r.on_time_probability != null ? `on time in ${percent(r.on_time_probability)} of them` : "";
      const words = [range, onTime].filter((w) => w !== "").join(", ");
      return words ? `<br/>In ${count(plan.robustness!.replications)} simulated runs: ${words}` : "";
    };
    const tips: string[] = [];
    const items: Item[] = [];
    const end = Math.max(...plan.operations.map((o) => o.end_s), plan.makespan_s, 1);
    for (const m of plan.machines) {
      const r = row.get(m.machine)!;
      for (const b of m.breaks) {
        tips.push(`${m.machine}: off shift or maintenance, ${at(ms(b.start_s))}–${at(ms(b.end_s))}`);
        items.push({ value: [r, ms(b.start_s), ms(Math.min(b.end_s, end)), tips.length - 1], itemStyle: { color: PAUSE } });
      }
      for (const u of m.unavailable) {
        tips.push(`${m.machine}: unavailable, ${at(ms(u.start_s))}–${at(ms(u.end_s))}`);
        items.push({ value: [r, ms(u.start_s), ms(Math.min(u.end_s, end)), tips.length - 1], itemStyle: { color: UNAVAILABLE } });
      }
    }
    for (const o of plan.operations) {
      const r = row.get(o.machine);
      if (r === undefined) continue;
      const order = due.get(o.order);
      const dueText = order?.due_s != null ? `, due ${at(ms(order.due_s))}${order.late ? ` – late by ${duration(order.lateness_s)}` : ""}` : "";
      if (o.start_s > o.setup_start_s) {
        tips.push(`${o.machine}: setup for ${o.product} (order ${o.order}), ${at(ms(o.setup_start_s))}–${at(ms(o.start_s))}, ${duration(o.start_s - o.setup_start_s)}`);
        items.push({ value: [r, ms(o.setup_start_s), ms(o.start_s), tips.length - 1], itemStyle: { color: SETUP, decal: { symbol: "rect", dashArrayX: [1, 0], dashArrayY: [2, 3], rotation: -0.8, color: "rgba(0,0,0,0.35)" } } });
      }
      tips.push(
        `Order ${o.order}, step ${o.operation}: ${count(o.quantity)} pcs of ${o.product} on ${o.machine}<br/>${at(ms(o.start_s))}–${at(ms(o.end_s))} (${duration(o.end_s - o.start_s)})${dueText}${simulated(o.order)}`,
      );
      items.push({
        value: [r, ms(o.start_s), ms(o.end_s), tips.length - 1],
        itemStyle: late.has(o.order) ? { color: colour(o.product), borderColor: "#D55E00", borderWidth: 2 } : { color: colour(o.product), borderColor: "#222", borderWidth: 0.5 },
      });
    }
    // Due dates: a mark on the row of the machine that ends the order.
    const lastOn = new Map<string, string>();
    for (const o of plan.operations) {
      const prev = plan.operations.find((p) => p.order === o.order && p.end_s > o.end_s);
      if (!prev) lastOn.set(o.order, o.machine);
    }
    const dueMarks = plan.orders
      .filter((o) => o.due_s != null && lastOn.has(o.order))
      .map((o) => ({ value: [ms(o.due_s!), row.get(lastOn.get(o.order)!) ?? 0], order: o.order, late: o.late }));
    // Plant midnights: the day grid.
    const days: number[] = [];
    const firstMidnight = Math.ceil(t0 / 86_400_000) * 86_400_000;
    for (let d = firstMidnight; d < ms(end) && days.length < 400; d += 86_400_000) days.push(d);
    const renderItem = (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
      const r = Number(api.value(0));
      const from = api.coord([api.value(1), r]);
      const to = api.coord([api.value(2), r]);
      const height = (api.size?.([0, 1]) as number[])[1]! * 0.65;
      const box = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
      const left = Math.max(from[0]!, box.x);
      const right = Math.min(to[0]!, box.x + box.width);
      if (right <= left) return null;
      return { type: "rect", shape: { x: left, y: from[1]! - height / 2, width: Math.max(right - left, 0.5), height }, style: api.style() };
    };
    return {
      tooltip: {
        trigger: "item",
        formatter: (p: { seriesIndex: number; value: number[]; data: { order?: string; late?: boolean } }) =>
          p.seriesIndex === 0 ? (tips[p.value[3]!] ?? "") : `Order ${p.data.order} due ${at(p.value[0] ?? 0)}${p.data.late ? " (late)" : ""}`,
      },
      grid: { left: 130, right: 30, top: 16, bottom: 70 },
      dataZoom: [
        { type: "inside", xAxisIndex: 0, filterMode: "weakFilter" },
        { type: "slider", xAxisIndex: 0, height: 20, bottom: 10, filterMode: "weakFilter", labelFormatter: (v: number) => at(v) },
      ],
      useUTC: true,
      xAxis: {
        type: "time",
        min: t0,
        max: ms(end),
        // One line per tick, as the printed Gantt: the date at midnight, the clock otherwise.
        axisLabel: {
          formatter: (v: number) => {
            const t = at(v);
            return t.endsWith(" 00:00") ? t.slice(0, 10) : t.slice(11);
          },
          hideOverlap: true,
        },
        splitLine: { show: true, lineStyle: { color: "#e4e4e4" } },
        minInterval: 3_600_000,
      },
      yAxis: { type: "category", data: machines, inverse: true },
      series: [
        {
          type: "custom",
          renderItem,
          encode: { x: [1, 2], y: 0 },
          data: items,
          clip: true,
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { color: "#555", type: "dashed", width: 1 },
            label: { show: false },
            data: days.map((d) => ({ xAxis: d })),
          },
        },
        {
          type: "scatter",
          symbol: "triangle",
          symbolRotate: 180,
          symbolSize: 10,
          symbolOffset: [0, -14],
          data: dueMarks.map((d) => ({ ...d, itemStyle: { color: d.late ? "#D55E00" : "#333" } })),
        },
      ],
    };
  }, [plan, offset]);
  const products = [...new Set(plan.operations.map((o) => o.product))];
  return (
    <>
      <ul class="products" aria-label="products">
        {products.map((p, i) => (
          <li key={p}>
            <span class="swatch" style={{ background: PRODUCT_COLOURS[i % PRODUCT_COLOURS.length] }} />
            {p}
          </li>
        ))}
        <li>
          <span class="swatch" style={{ background: SETUP }} />
          setup
        </li>
        <li>
          <span class="swatch" style={{ background: PAUSE }} />
          off shift or maintenance
        </li>
      </ul>
      <Chart option={option} height={110 + 34 * plan.machines.length} label={`Gantt chart of the plan: ${plan.operations.length} operations on ${plan.machines.length} machines`} testId="gantt" />
    </>
  );
}

// The plan on a calendar: one row per day of the horizon (plant time), hours across; production
// time white, off-shift time grey, and each service as a bar in its machine's colour.
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn } from "echarts";
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import { duration, offsetOf, percent, plantTime } from "../format";
import { machineColour, type MaintenanceResult } from "./plan";

const DAY_MS = 86_400_000;
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** [day row, from hour, to hour, kind (0: production share, 1: service), share or machine, tip] */
type Item = [number, number, number, number, number, number];

export function PlanCalendar(props: { result: MaintenanceResult }) {
  const r = props.result;
  const { option, days } = useMemo(() => {
    const offset = offsetOf(r.start);
    const t0 = Date.parse(r.start);
    const local = (ms: number) => ms + offset * 60_000;
    const firstDay = Math.floor(local(t0) / DAY_MS) * DAY_MS;
    const machines = r.machines.map((m) => m.name);
    const tips: string[] = [];
    const items: Item[] = [];
    // A span cut at plant midnights into one item per day.
    const place = (fromMs: number, toMs: number, kind: number, value: number, tip: string) => {
      tips.push(tip);
      let a = local(fromMs);
      const b = local(toMs);
      while (a < b) {
        const day = Math.floor((a - firstDay) / DAY_MS);
        const dayEnd = firstDay + (day + 1) * DAY_MS;
        const end = Math.min(b, dayEnd);
        const base = firstDay + day * DAY_MS;
        items.push([day, (a - base) / 3_600_000, (end - base) / 3_600_000, kind, value, tips.length - 1]);
        a = end;
      }
    };
    const bucketMs = r.calendar.bucket_s * 1000;
    r.calendar.production_share.forEach((share, b) => {
      const from = t0 + b * bucketMs;
      place(from, from + bucketMs, 0, share, `${plantTime(from, offset)}–${plantTime(from + bucketMs, offset).slice(11)}: ${share > 0.999 ? "production time" : share < 0.001 ? "no production (off shift, break)" : `${percent(share)} production time`}`);
    });
    for (const w of r.plan.windows) {
      const from = t0 + w.start_s * 1000;
      place(
        from,
        from + w.duration_s * 1000,
        1,
        Math.max(0, machines.indexOf(w.machine)),
        `Service of ${w.machine}<br/>${plantTime(from, offset)}–${plantTime(from + w.duration_s * 1000, offset).slice(11)} (${duration(w.duration_s)}), ${w.crew} crew<br/>chance of a failure before it ${percent(w.risk_before)}; until the next renewal ${percent(w.risk_after)} (without it ${percent(w.risk_without)})`,
      );
    }
    const days = Math.max(1, ...items.map((i) => i[0] + 1));
    const labels = Array.from({ length: days }, (_, d) => {
      const date = new Date(firstDay + d * DAY_MS);
      return `${WEEKDAYS[date.getUTCDay()]} ${plantTime(firstDay + d * DAY_MS - offset * 60_000, offset).slice(0, 10)}`;
    });
    const render = (_: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
      const day = api.value(0) as number;
      const [x1, y] = api.coord([api.value(1), day]) as [number, number];
      const [x2] = api.coord([api.value(2), day]) as [number, number];
      const band = (api.size!([0, 1]) as number[])[1]!;
      const kind = api.value(3) as number;
      const value = api.value(4) as number;
      if (kind === 0) {
        const fill = value > 0.999 ? "#ffffff" : value < 0.001 ? "#c9c9c9" : "#e4e4e4";
        return { type: "rect", shape: { x: x1, y: y - band / 2, width: x2 - x1, height: band }, style: { fill, stroke: "#e0e0e0", lineWidth: 0.5 } };
      }
      const lanes = Math.max(1, machines.length);
      const lane = (band * 0.8) / lanes;
      const top = y - band * 0.4 + value * lane;
      return {
        type: "rect",
        shape: { x: x1, y: top, width: Math.max(2, x2 - x1), height: lane - 1, r: 2 },
        style: { fill: machineColour(value), stroke: "#111", lineWidth: 0.5 },
      };
    };
    const option: ChartOption = {
      grid: { left: 130, right: 20, top: 30, bottom: 30 },
      tooltip: { trigger: "item", formatter: (p: { value: Item }) => tips[p.value[5]] ?? "" },
      xAxis: { type: "value", min: 0, max: 24, interval: 2, position: "top", axisLabel: { formatter: (h: number) => `${String(h).padStart(2, "0")}:00` } },
      yAxis: { type: "category", inverse: true, data: labels, axisTick: { show: false } },
      series: [
        { type: "custom", renderItem: render, encode: { x: [1, 2], y: 0 }, data: items.filter((i) => i[3] === 0), z: 1 },
        { type: "custom", renderItem: render, encode: { x: [1, 2], y: 0 }, data: items.filter((i) => i[3] === 1), z: 2 },
      ],
    };
    return { option, days };
  }, [r]);
  return (
    <>
      <ul class="products" aria-label="machines">
        {r.machines.map((m, i) => (
          <li key={m.name}>
            <span class="swatch" style={{ background: machineColour(i) }} />
            {m.name}
          </li>
        ))}
        <li>
          <span class="swatch" style={{ background: "#fff" }} />
          production time
        </li>
        <li>
          <span class="swatch" style={{ background: "#c9c9c9" }} />
          no production (off shift, breaks)
        </li>
      </ul>
      <Chart option={option} height={60 + 34 * days} label={`maintenance calendar: ${r.plan.windows.length} services over ${days} days`} testId="calendar" />
    </>
  );
}

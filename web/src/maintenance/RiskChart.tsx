// Each machine's chance of a failure since its last renewal over the horizon: with the plan (solid,
// falling to 0 at each service) and without any service (dashed), against the risk limit.
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import { offsetOf, percent, plantTime } from "../format";
import { machineColour, type MaintenanceResult } from "./plan";

export function RiskChart(props: { result: MaintenanceResult }) {
  const r = props.result;
  const option = useMemo<ChartOption>(() => {
    const offset = offsetOf(r.start);
    // Plant time plotted as if it were UTC (the chart reads UTC): ticks on the plant's own hours.
    const t0 = Date.parse(r.start) + offset * 60_000;
    const series: Record<string, unknown>[] = r.calendar.risk.flatMap((c, i) => [
      {
        type: "line",
        name: `${c.machine} with the plan`,
        color: machineColour(i),
        showSymbol: false,
        data: c.at_s.map((s, k) => [t0 + s * 1000, c.with_plan[k]]),
      },
      {
        type: "line",
        name: `${c.machine} without service`,
        color: machineColour(i),
        showSymbol: false,
        lineStyle: { type: "dashed", opacity: 0.7 },
        data: c.at_s.map((s, k) => [t0 + s * 1000, c.without_plan[k]]),
      },
    ]);
    if (r.settings.max_risk < 1) {
      series.push({
        type: "line",
        data: [],
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { color: "#a33a00" },
          label: { formatter: `risk limit ${percent(r.settings.max_risk)}`, position: "insideEndTop" },
          data: [{ yAxis: r.settings.max_risk }],
        },
      });
    }
    return {
      useUTC: true,
      grid: { left: 70, right: 30, top: 60, bottom: 40 },
      legend: { top: 0, type: "scroll" },
      tooltip: {
        trigger: "axis",
        formatter: (items: { seriesName: string; value: [number, number] }[]) =>
          items.length ? [plantTime(items[0]!.value[0], 0), ...items.map((i) => `${i.seriesName}: ${percent(i.value[1])}`)].join("<br/>") : "",
      },
      xAxis: {
        type: "time",
        axisLabel: {
          // Days at midnight ("Mon 01-05"), hours between them, all in plant time.
          formatter: (v: number) => {
            const text = plantTime(v, 0);
            return text.endsWith("00:00") ? `${["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(v).getUTCDay()]} ${text.slice(5, 10)}` : text.slice(11);
          },
        },
      },
      yAxis: { type: "value", min: 0, max: 1, name: "chance of a failure since the last renewal", nameTextStyle: { align: "left" }, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
      series,
    };
  }, [r]);
  return <Chart option={option} height={340} label="each machine's chance of a failure over the horizon, with and without the plan" testId="risk-chart" />;
}

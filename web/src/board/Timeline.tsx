// Each machine's states over the shift, one row per machine in line order, at one-minute
// resolution (a minute shows its longest state; the tooltip lists every state in it), with zoom
// and pan in time. Plant time on the axis.
import type { CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams, CustomSeriesRenderItemReturn } from "echarts";
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import { duration, plantClock } from "../format";
import { look, STATE_ORDER } from "../states";
import { tvMode } from "../tv";
import type { TimelineReport } from "./history";

type Bar = [row: number, start: number, end: number, state: number];

/** `rowPx`: the height of a machine's row (less on a TV showing a long line, so that it fits). */
export function Timeline(props: { report: TimelineReport; machines: string[]; offset: number; rowPx?: number }) {
  const { report, machines, offset } = props;
  const option = useMemo<ChartOption>(() => {
    const rows = new Map(machines.map((m, i) => [m, i]));
    const tips: string[] = [];
    const data: { value: Bar; itemStyle: { color: string } }[] = [];
    for (const asset of report.assets) {
      const row = rows.get(asset.asset);
      if (row === undefined) continue;
      for (const s of asset.segments) {
        const detail = STATE_ORDER.filter((st) => (s.state_s[st] ?? 0) > 0)
          .map((st) => `${look(st).word} ${duration(s.state_s[st])}`)
          .join(", ");
        tips.push(`${asset.asset} ${plantClock(s.start_ms, offset)}–${plantClock(s.end_ms, offset)}: ${detail}`);
        data.push({ value: [row, s.start_ms, s.end_ms, tips.length - 1], itemStyle: { color: look(s.state).colour } });
      }
    }
    const end = Math.min(report.window_end_ms, Math.max(report.now_ms, report.window_start_ms + 60_000));
    const renderItem = (params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI): CustomSeriesRenderItemReturn => {
      const row = Number(api.value(0));
      const from = api.coord([api.value(1), row]);
      const to = api.coord([api.value(2), row]);
      const height = (api.size?.([0, 1]) as number[])[1]! * 0.7;
      const x = from[0]!;
      const y = from[1]! - height / 2;
      const coords = params.coordSys as unknown as { x: number; y: number; width: number; height: number };
      const left = Math.max(x, coords.x);
      const right = Math.min(to[0]!, coords.x + coords.width);
      if (right <= left) return null;
      return { type: "rect", shape: { x: left, y, width: Math.max(right - left, 1), height }, style: api.style() };
    };
    // A TV is not touched: no slider to zoom with, and its room goes to the rows.
    const tv = tvMode();
    return {
      tooltip: { trigger: "item", formatter: (p: { value: Bar }) => tips[p.value[3]] ?? "" },
      grid: { left: 110, right: 24, top: 10, bottom: tv ? 30 : 60 },
      dataZoom: tv
        ? []
        : [
            { type: "inside", xAxisIndex: 0, filterMode: "weakFilter" },
            { type: "slider", xAxisIndex: 0, height: 18, bottom: 8, filterMode: "weakFilter", labelFormatter: (v: number) => plantClock(v, offset) },
          ],
      xAxis: {
        type: "value",
        min: report.window_start_ms,
        max: end,
        interval: 3_600_000,
        axisLabel: { formatter: (v: number) => plantClock(v, offset) },
        splitLine: { show: true, lineStyle: { color: "#ddd" } },
      },
      yAxis: { type: "category", data: machines, inverse: true },
      series: [{ type: "custom", renderItem, encode: { x: [1, 2], y: 0 }, data }],
    };
  }, [report, machines, offset]);
  const room = tvMode() ? 50 : 80;
  return <Chart option={option} height={room + (props.rowPx ?? 40) * machines.length} label="machine states over the shift" testId="timeline-chart" />;
}

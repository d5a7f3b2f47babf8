// Stops and waits by reason over the shift, longest first with their cumulative share: where a
// shift leader looks first. A failure's reason is its failure mode. A stop is the machine's own
// (down, setup, planned, idle); a wait (starved, blocked) is the line's, and a machine faster than
// its feed waits many short times, so each row says how often and how long each was on average.
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import { count, duration, durationStep, percent } from "../format";
import { look, reasonText, type ReasonWords } from "../states";
import type { components } from "../api-schema";
import type { TimelineReport } from "./history";

const SHOWN = 10;

type Stop = components["schemas"]["StopReason"];

/**
 * How often, as the shift report writes it (`Downtime::how_often_text`): "3 stops", "20,736
 * waits"; a stop under way when the window began counts in the window it began in, so time lost
 * with no stop begun is "carried over", not "0" beside the minutes.
 */
function howOften(s: Stop): string {
  if (s.episodes === 0 && s.duration_s > 0) return "carried over";
  const what = s.kind === "wait" ? "wait" : "stop";
  return `${count(s.episodes)} ${what}${s.episodes === 1 ? "" : "s"}`;
}

export function Pareto(props: { report: TimelineReport; reasons: ReasonWords }) {
  const stops = useMemo(
    () =>
      props.report.assets
        .flatMap((a) =>
          a.stops
            .filter((s) => (s.kind === "stop" || s.kind === "wait") && s.duration_s > 0)
            .map((s) => {
              const said = reasonText(s.reason, props.reasons, true);
              return { ...s, machine: a.asset, label: `${a.asset} · ${look(s.state).word}${said ? ` · ${said}` : ""}`, reasonText: reasonText(s.reason, props.reasons) };
            }),
        )
        .sort((a, b) => b.duration_s - a.duration_s),
    [props.report, props.reasons],
  );
  const total = stops.reduce((sum, s) => sum + s.duration_s, 0);
  const top = stops.slice(0, SHOWN);
  const option = useMemo<ChartOption>(() => {
    let running = 0;
    // Ticks at whole minutes or hours ("5 min", "10 min"), not echarts' fifths of the range.
    const longest = top[0]?.duration_s ?? 0;
    const step = durationStep(longest);
    const cumulative = top.map((s) => (running += s.duration_s) / Math.max(total, 1e-9));
    return {
      tooltip: {
        trigger: "axis",
        formatter: (items: { dataIndex: number }[]) => {
          const s = top[items[0]?.dataIndex ?? 0];
          if (!s) return "";
          const often = s.mean_s == null ? "carried over from before" : `in ${howOften(s)}, ${duration(s.mean_s)} each on average`;
          return `${s.label}<br/>${duration(s.duration_s)} ${often}<br/>${percent(cumulative[items[0]?.dataIndex ?? 0])} of all the time lost up to here`;
        },
      },
      grid: { left: 80, right: 50, top: 20, bottom: 90 },
      xAxis: { type: "category", data: top.map((s) => s.label), axisLabel: { rotate: 30, fontSize: 11, width: 160, overflow: "truncate" } },
      yAxis: [
        { type: "value", interval: step, max: step ? Math.ceil(longest / step) * step : undefined, axisLabel: { formatter: (v: number) => duration(v) } },
        { type: "value", max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` }, splitLine: { show: false } },
      ],
      series: [
        { type: "bar", data: top.map((s) => ({ value: s.duration_s, itemStyle: { color: look(s.state).colour, borderColor: "#333", borderWidth: 0.5 } })) },
        { type: "line", yAxisIndex: 1, data: cumulative, itemStyle: { color: "#333" }, symbolSize: 6 },
      ],
    };
  }, [top, total]);
  if (!top.length) return <p class="quiet">No stops or waits in this window.</p>;
  return (
    <>
      <Chart option={option} height={300} label="stops and waits by reason, longest first" testId="pareto-chart" />
      <table class="losses" data-testid="stops">
        <thead>
          <tr>
            <th scope="col">machine</th>
            <th scope="col">state</th>
            <th scope="col">reason</th>
            <th scope="col" class="num">time</th>
            <th scope="col" class="num">how often</th>
            <th scope="col" class="num">each, on average</th>
          </tr>
        </thead>
        <tbody>
          {top.map((s) => (
            <tr key={s.label}>
              <td>{s.machine}</td>
              <td>{look(s.state).word}</td>
              <td>{s.reasonText ?? "–"}</td>
              <td class="num">{duration(s.duration_s)}</td>
              <td class="num">{howOften(s)}</td>
              <td class="num">{duration(s.mean_s)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

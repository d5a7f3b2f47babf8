// Where each machine's time went in a shift: its state times as shares of the window, stacked,
// machines in line order. The losses sorted by size below the chart make it a Pareto of the line.
import { useMemo } from "preact/hooks";
import { Chart, type ChartOption } from "../chart";
import { duration, percent } from "../format";
import { look, STATE_ORDER } from "../states";

export type MachineTimes = { name: string; state_s: Record<string, number> };

export function TimeChart(props: { machines: MachineTimes[]; title: string; testId: string }) {
  const option = useMemo<ChartOption>(() => {
    const names = props.machines.map((m) => m.name);
    const totals = props.machines.map((m) => Object.values(m.state_s).reduce((a, b) => a + b, 0));
    const present = STATE_ORDER.filter((s) => props.machines.some((m) => (m.state_s[s] ?? 0) > 0));
    return {
      tooltip: {
        trigger: "item",
        formatter: (p: { seriesName: string; name: string; dataIndex: number; value: number }) =>
          `${p.name} – ${p.seriesName}: ${percent(p.value)} (${duration((p.value * (totals[p.dataIndex] ?? 0)))})`,
      },
      legend: { top: 0, textStyle: { fontSize: 13 } },
      grid: { left: 110, right: 24, top: 36, bottom: 28 },
      xAxis: { type: "value", max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
      yAxis: { type: "category", data: names, inverse: true },
      series: present.map((state) => ({
        name: look(state).word,
        type: "bar",
        stack: "time",
        itemStyle: { color: look(state).colour, borderColor: "#333", borderWidth: 0.5 },
        data: props.machines.map((m, i) => ((m.state_s[state] ?? 0) / Math.max(totals[i] ?? 0, 1e-9))),
      })),
    };
  }, [props.machines]);
  const losses = props.machines
    .flatMap((m) =>
      Object.entries(m.state_s)
        .filter(([state, s]) => look(state).loss && s > 0)
        .map(([state, s]) => ({ machine: m.name, state, s })),
    )
    .sort((a, b) => b.s - a.s)
    .slice(0, 6);
  return (
    <section class="panel" aria-label={props.title}>
      <h2>{props.title}</h2>
      <Chart option={option} height={60 + 34 * props.machines.length} label={props.title} testId={props.testId} />
      {losses.length ? (
        <table class="losses">
          <caption>Largest losses</caption>
          <thead>
            <tr>
              <th scope="col">machine</th>
              <th scope="col">state</th>
              <th scope="col" class="num">
                time
              </th>
            </tr>
          </thead>
          <tbody>
            {losses.map((l) => (
              <tr key={`${l.machine}-${l.state}`}>
                <td>{l.machine}</td>
                <td>{look(l.state).word}</td>
                <td class="num">{duration(l.s)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="quiet">No losses in this window.</p>
      )}
    </section>
  );
}

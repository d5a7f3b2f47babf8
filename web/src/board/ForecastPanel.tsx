// The forecast to the end of the shift: each station's and the plant's good parts, as the median
// and the 90 % range of the simulated futures, against the plan; and each order's chance to be
// finished by its due time. Refreshed every two minutes, or at a click.
import { useCallback, useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, post, type Forecast } from "../api";
import { Chart, type ChartOption } from "../chart";
import { count, offsetOf, percent, plantTime } from "../format";
import { twinPath } from "../plant";

const REFRESH_MS = 120_000;

type Row = { name: string; so_far: number; p05: number; p50: number; p95: number; plan: number | null };

function rows(f: Forecast): Row[] {
  const stations = f.stations.map((s) => ({
    name: s.station,
    so_far: s.good_so_far,
    p05: s.good_at_end.p05,
    p50: s.good_at_end.p50,
    p95: s.good_at_end.p95,
    plan: s.plan_good ?? null,
  }));
  return [
    ...stations,
    {
      name: "plant",
      so_far: f.plant_good_so_far,
      p05: f.plant_good_at_end.p05,
      p50: f.plant_good_at_end.p50,
      p95: f.plant_good_at_end.p95,
      plan: f.plan_plant_good ?? null,
    },
  ];
}

type OrderForecast = Forecast["orders"][number];

/** Whether the order is due after the forecast's horizon. */
function dueAfter(o: OrderForecast, until: string): boolean {
  return o.due != null && Date.parse(o.due) > Date.parse(until);
}

/** What the chart's ◆ is: the scenario's plan, or past its horizon the plant at the shift's start. */
function planText(f: Forecast): string {
  switch (f.plan_basis) {
    case "scenario":
      return "◆: the plan (the scenario from its start).";
    case "plant_at_shift_start":
      return "◆: the plan (the plant as it stood at the shift's start, run to its end).";
    default:
      return "no plan to compare with.";
  }
}

/** A finished order: on time or late, when its finishing time is known (it finished last of its product). */
function doneText(o: OrderForecast): string {
  if (o.p_on_time === 1) return "finished on time";
  if (o.p_on_time === 0) return "finished late";
  return "done";
}

function onTimeTitle(o: OrderForecast, until: string): string | undefined {
  if (o.overdue) return "due before now and not finished: late already";
  if (o.p_on_time == null && dueAfter(o, until))
    return "due after the forecast's end, and not finished by then in every future: its chance to be on time is not known yet";
  return undefined;
}

/** The shift that ended when no shift is running (the twin's clock is past its end), else null. */
export type ShiftOver = { shift: string | null; ended_ms: number; next_ms: number; offset_min: number };

/** `silent`: the twin has no event yet (the server would refuse: nothing to forecast from). */
export function ForecastPanel({ over, silent }: { over: ShiftOver | null; silent: boolean }) {
  const [forecast, setForecast] = useState<Forecast | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const between = over !== null;
  const refresh = useCallback(async () => {
    // Between shifts there is no rest of the shift to simulate, and a twin that has heard nothing
    // has no plant to start from: the server would refuse either.
    if (between || silent) return;
    setBusy(true);
    try {
      setForecast(await post<Forecast>(twinPath("/forecast"), {}));
      setError(null);
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 403
          ? "A forecast runs the simulator: it needs a shift leader's token (operate role) or a write token."
          : e instanceof ApiError
            ? e.message
            : "The forecast could not be run: no connection to the takt server.",
      );
    } finally {
      setBusy(false);
    }
  }, [between, silent]);
  useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), REFRESH_MS);
    return () => window.clearInterval(timer);
  }, [refresh]);

  const option = useMemo<ChartOption | null>(() => {
    if (!forecast) return null;
    const r = rows(forecast);
    const planned = forecast.plan_basis != null;
    return {
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: (items: { dataIndex: number }[]) => {
          const row = r[items[0]?.dataIndex ?? 0];
          if (!row) return "";
          return `${row.name}<br/>so far ${count(row.so_far)} good<br/>at the end: ${count(row.p50)} (90 % range ${count(row.p05)} to ${count(row.p95)})${planned ? `<br/>plan ${count(row.plan)}` : ""}`;
        },
      },
      legend: { top: 0, data: ["so far", "90 % range at shift end", ...(planned ? ["plan"] : [])] },
      grid: { left: 110, right: 30, top: 34, bottom: 30 },
      xAxis: { type: "value", name: "good parts", nameLocation: "middle", nameGap: 22, axisLabel: { formatter: (v: number) => count(v) } },
      yAxis: { type: "category", data: r.map((x) => x.name), inverse: true },
      series: [
        { name: "so far", type: "bar", data: r.map((x) => x.so_far), itemStyle: { color: "#009E73" }, barGap: "-100%", barWidth: 10 },
        { name: "range base", type: "bar", stack: "range", data: r.map((x) => x.p05), itemStyle: { color: "transparent" }, barWidth: 22, tooltip: { show: false } },
        { name: "90 % range at shift end", type: "bar", stack: "range", data: r.map((x) => Math.max(x.p95 - x.p05, 0.002 * Math.max(x.p95, 1))), itemStyle: { color: "rgba(0,114,178,0.35)", borderColor: "#0072B2" }, barWidth: 22 },
        ...(planned
          ? [
              {
                name: "plan",
                type: "line" as const,
                data: r.map((x) => x.plan),
                lineStyle: { opacity: 0 },
                symbol: "diamond",
                symbolSize: 14,
                itemStyle: { color: "#D55E00" },
              },
            ]
          : []),
      ],
    };
  }, [forecast]);

  const offset = forecast ? offsetOf(forecast.now) : 0;
  // The live order book's moment, if the orders are the plant's own; else they are the scenario's.
  const bookAsOf = forecast?.orders_as_of ?? null;
  const open = forecast?.orders.filter((o) => !o.complete_now) ?? [];
  const staleBook = !bookAsOf && open.length > 0 && open.every((o) => o.overdue);
  return (
    <section class="panel forecast" aria-label="forecast to the end of the shift" data-testid="forecast">
      <h2>
        Forecast to {forecast ? plantTime(Date.parse(forecast.until), offset).slice(11) : "the end of the shift"}
        <button type="button" onClick={() => void refresh()} disabled={busy || between || silent}>
          {busy ? "running…" : "refresh"}
        </button>
      </h2>
      {over ? (
        <p class="quiet" data-testid="forecast-between-shifts">
          No shift is running: the {over.shift ? `${over.shift} shift` : "shift"} ended at {plantTime(over.ended_ms, over.offset_min)}. The
          forecast runs again once the next shift has begun, at {plantTime(over.next_ms, over.offset_min)}.
        </p>
      ) : null}
      {!over && silent ? (
        <p class="quiet" data-testid="forecast-no-events">
          No event from the plant has reached the twin yet: the forecast starts from the plant as the events show it, and runs once the first
          arrives.
        </p>
      ) : null}
      {!over && !silent && error ? <p class="error" role="alert">{error}</p> : null}
      {over || silent ? null : forecast ? (
        <>
          <p class="quiet">
            {forecast.replications} simulated futures from the plant as it stood at {plantTime(Date.parse(forecast.now), offset, true)}.
            Bars: good parts so far; band: 90 % of the futures at the shift's end; {planText(forecast)}
          </p>
          {option ? <Chart option={option} height={70 + 40 * (forecast.stations.length + 1)} label="good parts at the end of the shift against plan" testId="forecast-chart" /> : null}
          {forecast.deviations.length ? (
            <ul class="deviations">
              {forecast.deviations.map((d) => (
                <li key={`${d.flag}-${d.subject}`}>
                  <strong>{d.subject}</strong>: {d.detail}
                </li>
              ))}
            </ul>
          ) : null}
          {forecast.warnings.length ? (
            <details class="quiet" data-testid="forecast-notes">
              <summary>What the forecast assumed ({forecast.warnings.length})</summary>
              <ul>
                {forecast.warnings.map((w) => (
                  <li key={w}>{w}</li>
                ))}
              </ul>
            </details>
          ) : null}
          {forecast.orders.length ? (
            <table data-testid="forecast-orders">
              <caption>
                {bookAsOf
                  ? `Orders of the plant's order book (as of ${plantTime(Date.parse(bookAsOf), offset)}): chance to be finished by their due time`
                  : "Orders of the scenario, dated from its start: chance to be finished by their due time"}
              </caption>
              <thead>
                <tr>
                  <th scope="col">order</th>
                  <th scope="col" class="num">quantity</th>
                  <th scope="col">due</th>
                  <th scope="col" class="num">
                    done by {plantTime(Date.parse(forecast.until), offset).slice(11)}
                  </th>
                  <th scope="col" class="num">on time</th>
                  {bookAsOf || forecast.plan_basis == null ? null : (
                    <th scope="col" class="num">
                      planned
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {forecast.orders.map((o) => (
                  <tr key={o.id} class={o.overdue || (o.p_on_time != null && o.p_on_time < 0.5) ? "late" : ""}>
                    <td>{o.id}</td>
                    <td class="num">{count(o.quantity)}</td>
                    <td>{o.due ? plantTime(Date.parse(o.due), offset) : "–"}</td>
                    <td class="num">{o.complete_now ? "done" : percent(o.p_complete)}</td>
                    <td class="num" title={onTimeTitle(o, forecast.until)}>
                      {o.complete_now ? doneText(o) : o.overdue ? "overdue" : o.p_on_time == null && dueAfter(o, forecast.until) ? "due later" : percent(o.p_on_time)}
                    </td>
                    {bookAsOf || forecast.plan_basis == null ? null : <td class="num">{percent(o.plan_p_on_time)}</td>}
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          {staleBook ? (
            <p class="quiet" data-testid="forecast-orders-stale">
              Every open order of the scenario was due before now: the plant's own open orders, given to the twin by the MES (
              <code>PUT /twin/orders</code> or <code>takt twin orders --set</code>), put this forecast on today's orders.
            </p>
          ) : null}
        </>
      ) : !error ? (
        <p class="quiet">Simulating the rest of the shift…</p>
      ) : null}
    </section>
  );
}

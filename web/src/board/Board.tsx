// The live line board (shift leader; a laptop or a shop-floor TV): the line in flow order with each
// machine's state, the shift's figures, where the time went, the shift before and the forecast.
import { useEffect, useMemo, useState } from "preact/hooks";
import { get, type AssetView, type PlantLayout } from "../api";
import { ago, duration, offsetText, plantClock, plantTime } from "../format";
import { AlertsPanel } from "./Alerts";
import { StoppedFeeds } from "./Feeds";
import { ForecastPanel } from "./ForecastPanel";
import { Line } from "./Line";
import { useLiveTwin } from "./live";
import { Previous } from "./Previous";
import { useBuffers } from "./history";
import { ShiftHistory } from "./ShiftHistory";
import { twinPath } from "../plant";
import { PlantPicker } from "./PlantPicker";

/** A TV's board shows a line of more machines than this as smaller cards in rows (`Line`'s `dense`). */
const DENSE_FROM = 6;

/** After this long without a connection, the machines' last states are no longer shown as current. */
const OFFLINE_AFTER_MS = 5000;

/** `tv`: a shop-floor TV's board: the line, the alerts, the states and stops; no forecast (it would
 * run one every two minutes per TV), no shift before, no buttons. */
export function Board(props: { tv?: boolean }) {
  const [layout, setLayout] = useState<PlantLayout | null>(null);
  const [error, setError] = useState<string | null>(null);
  const live = useLiveTwin();
  const [clock, setClock] = useState(Date.now());
  useEffect(() => {
    get<PlantLayout>(twinPath("/layout")).then(setLayout, (e: unknown) => setError(e instanceof Error ? e.message : String(e)));
    const timer = window.setInterval(() => setClock(Date.now()), 1000);
    return () => window.clearInterval(timer);
  }, []);
  const assets = useMemo(() => new Map<string, AssetView>((live.state?.assets ?? []).map((a) => [a.asset, a])), [live.state]);
  const levels = useBuffers(live.received);
  const buffers = useMemo(
    () => new Map<string, number | null>((levels?.buffers ?? []).map((b) => [b.buffer, b.parts ?? null])),
    [levels],
  );
  const ordered = useMemo(() => (layout ? layout.stations.flatMap((s) => s.machines) : []), [layout]);

  if (error) return <p class="error" role="alert">The plant's layout could not be read: {error}</p>;
  if (!layout) return <p class="quiet">Reading the plant…</p>;
  const offset = layout.utc_offset_min;
  const state = live.state;
  const offline = !live.status.connected && clock - live.status.since_ms > OFFLINE_AFTER_MS;
  const dense = props.tv === true && ordered.length > DENSE_FROM;
  return (
    <main class="board" aria-label="line board">
      <section class="board-head">
        {props.tv ? null : <PlantPicker />}
        <h1>{layout.plant}</h1>
        {state ? (
          <p>
            <span>
              {state.shift ? `${state.shift} shift` : "shift"} {plantClock(state.window_start_ms, offset)}–{plantClock(state.window_end_ms, offset)}
            </span>
            <span> · plant time {plantTime(state.now_ms, offset, true)} ({offsetText(offset)})</span>
            {state.now_ms < state.window_end_ms ? (
              <span> · {duration((state.window_end_ms - state.now_ms) / 1000)} to the shift's end</span>
            ) : (
              <span data-testid="between-shifts">
                {" "}
                · no shift running: this one ended {duration((state.now_ms - state.window_end_ms) / 1000)} ago, the next starts{" "}
                {plantTime(state.next_shift_start_ms, offset)}
              </span>
            )}
          </p>
        ) : null}
        <p class={`connection ${live.status.connected ? "up" : "down"}`} role="status" data-testid="connection">
          {live.status.connected
            ? `live · ${live.received} updates`
            : `connection lost ${ago(clock - live.status.since_ms)}${live.status.error ? ` (${live.status.error})` : ""}: reconnecting`}
        </p>
      </section>
      {offline ? (
        <p class="banner" role="alert" data-testid="offline-banner">
          No connection to the takt server for {ago(clock - live.status.since_ms).replace(" ago", "")}: the machines below show as unknown until it is back.
        </p>
      ) : null}
      <StoppedFeeds offset={offset} clock={clock} tv={props.tv} />
      <AlertsPanel changes={live.alerts} offset={offset} since_ms={state?.window_start_ms ?? null} showCleared={!props.tv} />
      <Line
        layout={layout}
        assets={assets}
        buffers={buffers}
        now_ms={state?.now_ms ?? 0}
        offline={offline}
        dense={dense}
      />
      <ShiftHistory
        machines={ordered}
        offset={offset}
        changes={live.received}
        between={state ? state.now_ms >= state.window_end_ms : false}
        reasons={layout.stop_reasons}
        dense={dense}
      />
      {props.tv ? null : (
        <div class="panels">
          {/* Mounted once the twin's clock is known: between shifts it must not ask for a forecast. */}
          {state ? (
            <ForecastPanel
              over={
                state.now_ms >= state.window_end_ms
                  ? { shift: state.shift ?? null, ended_ms: state.window_end_ms, next_ms: state.next_shift_start_ms, offset_min: offset }
                  : null
              }
              silent={!state.assets.some((a) => a.events > 0)}
            />
          ) : null}
          <Previous layout={layout} assets={assets} />
        </div>
      )}
    </main>
  );
}

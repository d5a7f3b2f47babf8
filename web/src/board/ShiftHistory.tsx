// The timeline and the stops of the running shift, or of the one before for the handover.
// Between shifts, the one that ended last and the one before it.
import { useState } from "preact/hooks";
import { plantTime } from "../format";
import { useTimeline, type Window } from "./history";
import type { ReasonWords } from "../states";
import { Pareto } from "./Pareto";
import { Timeline } from "./Timeline";

/** `dense`: a TV showing a long line, whose timeline's rows are lower so that the board fits. */
export function ShiftHistory(props: { machines: string[]; offset: number; changes: number; between: boolean; reasons: ReasonWords; dense?: boolean }) {
  const [window, setWindow] = useState<Window>("shift");
  const { report, error } = useTimeline(window, props.changes);
  const span = report ? `${report.shift ?? "shift"} ${plantTime(report.window_start_ms, props.offset)}–${plantTime(report.window_end_ms, props.offset).slice(11)}` : "";
  return (
    <section class="panel wide" aria-label="the shift's timeline and stops" data-testid="shift-history">
      <h2>
        States and stops · {span}
        <span class="switch" role="group" aria-label="which shift">
          <button type="button" aria-pressed={window === "shift"} onClick={() => setWindow("shift")}>
            {props.between ? "last shift" : "running shift"}
          </button>
          <button type="button" aria-pressed={window === "previous"} onClick={() => setWindow("previous")}>
            {props.between ? "shift before it" : "shift before"}
          </button>
        </span>
      </h2>
      {error ? <p class="error" role="alert">{error}</p> : null}
      {report ? (
        <div class="history">
          <Timeline report={report} machines={props.machines} offset={props.offset} rowPx={props.dense ? 20 : 40} />
          <div>
            <h3>Stops and waits by reason</h3>
            <Pareto report={report} reasons={props.reasons} />
          </div>
        </div>
      ) : null}
    </section>
  );
}

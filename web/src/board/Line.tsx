// The line in flow order: a column per stage, each station with its machines' state (colour and
// word), reason and since when, the shift's good and scrap, and its ISO 22400 figures; between the
// columns, the buffers that feed the next stage. On a TV with a long line (`dense`), every machine
// is a smaller card in rows read in flow order, the buffer feeding a station above its first
// machine, so that the whole line fits the screen.
import type { AssetView, PlantLayout } from "../api";
import { count, duration, percent, plantClock } from "../format";
import { look, reasonText, type ReasonWords } from "../states";

type Station = PlantLayout["stations"][number];

/** ⚑ beside a figure, with what it means on hover. */
function Flag(props: { flag?: string | undefined }) {
  return props.flag ? (
    <span class="flag" title={props.flag}>
      {" "}
      ⚑
    </span>
  ) : null;
}

function Kpi(props: { name: string; value: number | null | undefined; flag?: string | undefined }) {
  return (
    <div class="kpi">
      <span class="kpi-name">{props.name}</span>
      <span class="kpi-value">
        {percent(props.value)}
        <Flag flag={props.flag} />
      </span>
    </div>
  );
}

/** Performance over 100 % means the standard cycle is slower than the machine: said, not hidden
 * (the twin says when, in `performance_above_standard`). */
export function overStandard(kpis: { performance?: number | null; performance_above_standard: boolean }): string | undefined {
  return kpis.performance_above_standard
    ? `performance ${percent(kpis.performance)}: faster than the standard cycle, check the standard`
    : undefined;
}

/** A machine whose events bring more names (products, signals, alarms, stop reasons) than the twin
 * keeps per machine: said, so that a name missing from its figures is not taken for a name never
 * sent (the twin says which kinds, in `names_over_bound`). */
export function namesOverBound(kinds: readonly string[]): string | undefined {
  if (kinds.length === 0) return undefined;
  const list = kinds.length === 1 ? kinds[0] : `${kinds.slice(0, -1).join(", ")} and ${kinds[kinds.length - 1]}`;
  return `sends more ${list} than the twin keeps by name (its events are stored whole)`;
}

function MachineCard(props: {
  asset: AssetView | undefined;
  name: string;
  now_ms: number;
  offset: number;
  offline: boolean;
  reasons: ReasonWords;
  dense: boolean;
}) {
  const a = props.asset;
  const state = props.offline || !a ? "UNKNOWN" : a.state;
  const l = look(state);
  const flag = a ? overStandard(a) : undefined;
  const names = a && !props.offline ? namesOverBound(a.names_over_bound) : undefined;
  const since = a?.since_ms ?? null;
  const badge = (
    <span class={`state ${state === "UNKNOWN" ? "state-unknown" : ""}`} style={{ background: l.colour, color: l.ink }}>
      {l.word}
    </span>
  );
  return (
    <article class="machine" data-testid={`machine-${props.name}`} data-state={state} aria-label={`${props.name}: ${l.word}`}>
      {props.dense ? (
        // The name has the card's whole width; the state leads the reason's line.
        <header>
          <h3 title={props.name}>{props.name}</h3>
        </header>
      ) : (
        <header>
          <h3>{props.name}</h3>
          {badge}
        </header>
      )}
      <p class="reason">
        {props.dense ? <>{badge} </> : null}
        <span title={!props.offline && a?.reason ? `reason code: ${a.reason}` : undefined} data-testid={`reason-${props.name}`}>
          {props.offline ? "no connection to the server" : (reasonText(a?.reason, props.reasons, true) ?? "\u00a0")}
        </span>
      </p>
      <p class="since">
        {since != null && !props.offline
          ? `since ${plantClock(since, props.offset)} (${duration((props.now_ms - since) / 1000)})`
          : "\u00a0"}
      </p>
      <dl class="counts">
        <div>
          <dt>good</dt>
          <dd data-testid={`good-${props.name}`}>{count(a?.good)}</dd>
        </div>
        {props.dense ? (
          // The shift's good parts and OEE only: scrap, A, P and Q are on the desk's board.
          <div>
            <dt>OEE</dt>
            <dd>
              {percent(a?.oee)}
              <Flag flag={flag} />
            </dd>
          </div>
        ) : (
          <div>
            <dt>scrap</dt>
            <dd>{count(a?.scrap)}</dd>
          </div>
        )}
      </dl>
      {props.dense ? null : (
        <div class="kpis">
          <Kpi name="A" value={a?.availability} />
          <Kpi name="P" value={a?.performance} flag={flag} />
          <Kpi name="Q" value={a?.quality} />
          <Kpi name="OEE" value={a?.oee} flag={flag} />
        </div>
      )}
      {flag ? (
        <p class="warning" title={props.dense ? flag : undefined}>
          {props.dense ? "faster than standard" : flag}
        </p>
      ) : null}
      {names ? (
        <p
          class="warning names-warning"
          data-testid={`names-${props.name}`}
          title="pieces of products past the bound count as “(other products)”, at the station's mean standard cycle"
        >
          {names}
        </p>
      ) : null}
    </article>
  );
}

/** The buffer a station takes its parts from, when the scenario declares one, with its level. */
function Buffer(props: { station: Station; first: boolean; parts: number | null | undefined }) {
  const b = props.station.input_buffer;
  const level =
    props.parts == null ? null : b.capacity == null ? `${count(props.parts)} parts` : `${count(props.parts)} of ${count(b.capacity)}`;
  if (b.implicit) {
    return <div class="buffer">{props.first ? "start of the line" : "\u00a0"}</div>;
  }
  return (
    <div class="buffer" aria-label={`buffer ${b.name}`}>
      <span class="arrow" aria-hidden="true">
        →
      </span>
      <span class="buffer-name">{b.name}</span>
      {level != null && b.capacity != null ? (
        <meter min={0} max={b.capacity} value={props.parts ?? 0} aria-label={`${b.name} level`} title="inferred from the machines' counts" />
      ) : null}
      <span class="buffer-capacity" data-testid={`buffer-${b.name}`} title="inferred from the machines' counts">
        {level ?? (b.capacity == null ? "unlimited" : `holds ${count(b.capacity)}`)}
      </span>
    </div>
  );
}

export function Line(props: {
  layout: PlantLayout;
  assets: Map<string, AssetView>;
  buffers: Map<string, number | null>;
  now_ms: number;
  offline: boolean;
  dense?: boolean;
}) {
  const stages: Station[][] = [];
  for (const s of props.layout.stations) (stages[s.stage] ??= []).push(s);
  const offset = props.layout.utc_offset_min;
  const card = (m: string) => (
    <MachineCard
      key={m}
      name={m}
      asset={props.assets.get(m)}
      now_ms={props.now_ms}
      offset={offset}
      offline={props.offline}
      reasons={props.layout.stop_reasons}
      dense={props.dense ?? false}
    />
  );
  if (props.dense) {
    // In flow order, in rows of as many columns as half the machines (two rows for most lines).
    const machines = stages.flat().reduce((n, s) => n + s.machines.length, 0);
    const columns = Math.min(10, Math.max(4, Math.ceil(machines / 2)));
    return (
      <section class="line dense" aria-label="the line in flow order" style={{ gridTemplateColumns: `repeat(${columns}, minmax(0, 1fr))` }}>
        {stages.flat().map((s, k) => (
          <div class="station" key={s.name} data-testid={`station-${s.name}`}>
            {s.machines.map((m, i) => (
              <div class="slot" key={m}>
                {i === 0 ? (
                  <Buffer station={s} first={k === 0} parts={props.offline ? null : props.buffers.get(s.input_buffer.name)} />
                ) : (
                  <div class="buffer">{"\u00a0"}</div>
                )}
                {card(m)}
              </div>
            ))}
          </div>
        ))}
      </section>
    );
  }
  return (
    <section class="line" aria-label="the line in flow order">
      {stages.map((stations, stage) => (
        <div class="stage" key={stage}>
          {stations.map((s) => (
            <div class="station" key={s.name} data-testid={`station-${s.name}`}>
              <Buffer station={s} first={stage === 0} parts={props.offline ? null : props.buffers.get(s.input_buffer.name)} />
              {s.machines.length > 1 || s.machines[0] !== s.name ? <h2 class="station-name">{s.name}</h2> : null}
              {s.machines.map(card)}
            </div>
          ))}
        </div>
      ))}
    </section>
  );
}

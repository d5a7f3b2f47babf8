// The shift before the running one, complete to its end: what the shift leader hands over; and
// the shifts before it, as the twin keeps them (GET /twin/shifts), read again when a shift ends.
import { useEffect, useState } from "preact/hooks";
import { get, getBlob, type AssetView, type PlantLayout, type Schemas } from "../api";
import { download } from "../download";
import { count, percent, plantTime } from "../format";
import { twinPath } from "../plant";
import { overStandard } from "./Line";

type EndedShift = Schemas["EndedShift"];
type PeriodTotals = Schemas["PeriodTotals"];

/** How often the day's and the week's figures are read again: they grow with the running shift. */
const TOTALS_EVERY_MS = 60_000;

/** The earlier shifts shown under the shift before (the API has up to 44 more). */
const EARLIER_SHOWN = 8;

function useShifts(key: number | undefined): { shifts: EndedShift[] | null; error: string | null } {
  const [shifts, setShifts] = useState<EndedShift[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (key == null) return;
    const abort = new AbortController();
    get<Schemas["ShiftHistory"]>(twinPath("/shifts"), abort.signal)
      .then((h) => {
        setShifts(h.shifts);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!abort.signal.aborted) setError(`earlier shifts: ${e instanceof Error ? e.message : String(e)}`);
      });
    return () => abort.abort();
  }, [key]);
  return { shifts, error };
}

/** The day's and the week's figures of the running shift and yesterday's (GET /twin/totals, the
 * day before by its plant date), read again every minute and when a shift ends (`key`: the shift
 * before's start; null until the state is known, so that opening the board reads them once). */
function useTotals(key: number | null): { totals: PeriodTotals[]; error: string | null } {
  const [totals, setTotals] = useState<PeriodTotals[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (key === null) return;
    const abort = new AbortController();
    const totals = (query: string) => get<PeriodTotals>(twinPath(`/totals?${query}`), abort.signal);
    const read = () =>
      Promise.all([totals("period=day"), totals("period=week")])
        .then(async ([day, week]) => {
          const yesterday = await totals(`period=day&date=${day.before_date}`);
          setTotals([day, yesterday, week]);
          setError(null);
        })
        .catch((e: unknown) => {
          if (!abort.signal.aborted) setError(`day and week: ${e instanceof Error ? e.message : String(e)}`);
        });
    void read();
    const timer = window.setInterval(() => void read(), TOTALS_EVERY_MS);
    return () => {
      abort.abort();
      window.clearInterval(timer);
    };
  }, [key]);
  return { totals, error };
}

type MachineFigures = EndedShift["machines"][number];

/** A row of `OeeTable`: its header cell, and the figures of the machines that counted in it. */
type OeeRow = { key: string | number; label: string; title?: string; machines: MachineFigures[] };

/** Rows of shifts or periods: each one's good parts at the end of the line and each machine's OEE. */
function OeeTable(props: { testId: string; first: string; rows: OeeRow[]; machines: string[] }) {
  const last = props.machines[props.machines.length - 1];
  return (
    <table data-testid={props.testId}>
      <thead>
        <tr>
          <th scope="col">{props.first}</th>
          <th scope="col" class="num">
            good ({last})
          </th>
          {props.machines.map((m) => (
            <th scope="col" class="num" key={m}>
              OEE {m}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((row) => {
          const of = new Map(row.machines.map((m) => [m.asset, m]));
          return (
            <tr key={row.key}>
              <th scope="row" title={row.title}>
                {row.label}
              </th>
              <td class="num">{count(last ? of.get(last)?.good : null)}</td>
              {props.machines.map((m) => {
                const figures = of.get(m);
                const flag = figures ? overStandard(figures) : undefined;
                return (
                  <td class="num" key={m} title={flag}>
                    {percent(figures?.oee)}
                    {flag ? " ⚑" : ""}
                  </td>
                );
              })}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** A row per period that has figures: the day's, yesterday's and the week's. */
function Totals(props: { totals: PeriodTotals[]; machines: string[]; offset: number }) {
  // Read as [day, yesterday, week]: the second day is yesterday's, whichever have figures.
  const rows = props.totals
    .map((t, k) => ({ t, yesterday: t.period === "day" && k === 1 ? " (yesterday)" : "" }))
    .filter(({ t }) => t.shifts.length > 0)
    .map(({ t, yesterday }) => {
      const date = plantTime(t.start_ms, props.offset).slice(0, 10);
      const soFar = t.shifts.some((s) => s.running) ? " (so far)" : "";
      return {
        key: `${t.period}-${date}`,
        label: `${t.period === "day" ? `day ${date}` : `week from ${date}`}${soFar}${yesterday}`,
        title: `${t.shifts.length} shifts`,
        machines: t.machines,
        notes: t.notes,
      };
    });
  if (!rows.length) return null;
  return (
    <>
      <h3>Day and week</h3>
      <OeeTable testId="period-totals" first="period" rows={rows} machines={props.machines} />
      {/* What the figures leave out (shifts older than the twin keeps), said with them. */}
      {rows.flatMap((r) =>
        r.notes.map((n) => (
          <p class="quiet" key={`${r.key}-${n}`}>
            {r.label}: {n}
          </p>
        )),
      )}
    </>
  );
}

/** Each earlier shift in a row. */
function Earlier(props: { shifts: EndedShift[]; machines: string[]; offset: number }) {
  const shown = props.shifts.slice(0, EARLIER_SHOWN);
  const rows = shown.map((s) => ({
    key: s.start_ms,
    label: `${s.shift ?? "shift"} ${plantTime(s.start_ms, props.offset)}`,
    machines: s.machines,
  }));
  return (
    <>
      <h3>Earlier shifts</h3>
      <OeeTable testId="earlier-shifts" first="shift" rows={rows} machines={props.machines} />
      {props.shifts.length > shown.length ? (
        <p class="quiet">{props.shifts.length - shown.length} earlier shifts are kept too: GET /twin/shifts, or takt twin shifts.</p>
      ) : null}
    </>
  );
}

/**
 * The shift before's report for the handover (GET /twin/report?window=previous&format=html): each
 * machine's figures, the line against the plan, where the time went and the shift's alerts, as a
 * self-contained page to print or send on. The server runs the plan for it, so it is asked for only
 * when wanted.
 */
function HandoverReport(props: { date: string }) {
  const [preparing, setPreparing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <p class="handover">
      <button
        type="button"
        disabled={preparing}
        onClick={() => {
          setPreparing(true);
          setError(null);
          getBlob(twinPath("/report?window=previous&format=html"))
            .then(
              (blob) => download(`shift-report-${props.date}.html`, blob, "text/html"),
              (e: unknown) => setError(`the shift report: ${e instanceof Error ? e.message : String(e)}`),
            )
            .finally(() => setPreparing(false));
        }}
      >
        {preparing ? "preparing the shift report…" : "Shift report for the handover (HTML)"}
      </button>
      {error ? (
        <span class="error" role="alert">
          {" "}
          {error}
        </span>
      ) : null}
    </p>
  );
}

export function Previous(props: { layout: PlantLayout; assets: Map<string, AssetView> }) {
  const offset = props.layout.utc_offset_min;
  const rows = props.layout.stations.flatMap((s) =>
    s.machines.map((m) => ({ name: m, asset: props.assets.get(m) })),
  );
  const first = rows.find((r) => r.asset?.previous_shift)?.asset?.previous_shift;
  const { shifts, error } = useShifts(first?.start_ms);
  const { totals, error: totalsError } = useTotals(props.assets.size > 0 ? (first?.start_ms ?? 0) : null);
  // The shift before is the newest ended one, shown above: the others are earlier.
  const earlier = (shifts ?? []).filter((s) => first != null && s.start_ms < first.start_ms);
  return (
    <section class="panel" aria-label="the shift before" data-testid="previous-shift">
      <h2>
        Shift before
        {first ? ` – ${first.shift ?? "unnamed"}, ${plantTime(first.start_ms, offset)} to ${plantTime(first.end_ms, offset).slice(11)}` : ""}
      </h2>
      {first ? (
        <table>
          <thead>
            <tr>
              <th scope="col">machine</th>
              <th scope="col" class="num">good</th>
              <th scope="col" class="num">scrap</th>
              <th scope="col" class="num">availability</th>
              <th scope="col" class="num">performance</th>
              <th scope="col" class="num">quality</th>
              <th scope="col" class="num">OEE</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ name, asset }) => {
              const p = asset?.previous_shift;
              const flag = p ? overStandard(p) : undefined;
              return (
                <tr key={name}>
                  <td>{name}</td>
                  <td class="num">{count(p?.good)}</td>
                  <td class="num">{count(p?.scrap)}</td>
                  <td class="num">{percent(p?.availability)}</td>
                  <td class="num" title={flag}>
                    {percent(p?.performance)}
                    {flag ? " ⚑" : ""}
                  </td>
                  <td class="num">{percent(p?.quality)}</td>
                  <td class="num">{percent(p?.oee)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p class="quiet">The twin has seen no complete shift before this one yet.</p>
      )}
      {first ? <HandoverReport date={plantTime(first.start_ms, offset).slice(0, 10)} /> : null}
      {error ? <p class="error" role="alert">{error}</p> : null}
      {totalsError ? <p class="error" role="alert">{totalsError}</p> : null}
      <Totals totals={totals} machines={rows.map((r) => r.name)} offset={offset} />
      {earlier.length ? <Earlier shifts={earlier} machines={rows.map((r) => r.name)} offset={offset} /> : null}
    </section>
  );
}

// Open alerts for the shift leader, most urgent first: what is wrong, since when, and who took it
// on; "Take on" records a name and a note with the alert (an operate or write token is needed).
// Below them, folded, the alerts that cleared in the running shift, for the handover: what, from
// when to when, and who took each on. The lists are read again whenever the stream announces an
// alert change.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, post, type Alert, type AlertList } from "../api";
import { duration, plantTime } from "../format";
import { twinPath } from "../plant";

const NAME_KEY = "takt.alerts.by";

function severityFirst(a: Alert, b: Alert): number {
  if (a.severity !== b.severity) return a.severity === "critical" ? -1 : 1;
  return a.raised_ms - b.raised_ms;
}

function TakeOn(props: { alert: Alert; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  const [by, setBy] = useState(sessionStorage.getItem(NAME_KEY) ?? "");
  const [note, setNote] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)} aria-label={`take on alert ${props.alert.id}`}>
        Take on
      </button>
    );
  const submit = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    sessionStorage.setItem(NAME_KEY, by.trim());
    post<Alert>(twinPath(`/alerts/${props.alert.id}/acknowledge`), { by: by.trim(), note: note.trim() }).then(
      () => {
        setBusy(false);
        setOpen(false);
        props.onDone();
      },
      (err: unknown) => {
        setBusy(false);
        setError(
          err instanceof ApiError && err.status === 403
            ? "Taking on an alert needs a shift leader's token (operate role) or a write token."
            : err instanceof Error
              ? err.message
              : String(err),
        );
      },
    );
  };
  return (
    <form onSubmit={submit} aria-label={`take on alert ${props.alert.id}`}>
      <label>
        Your name{" "}
        <input required maxLength={100} value={by} onInput={(e) => setBy((e.target as HTMLInputElement).value)} />
      </label>
      <label>
        What you do{" "}
        <input maxLength={1000} size={32} value={note} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
      <button type="submit" disabled={busy || by.trim() === ""}>
        Take on
      </button>
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {error ? (
        <span class="error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
}

/** Alerts that cleared (the panel passes those of the running shift, newest cleared first). */
function Cleared(props: { alerts: Alert[]; offset: number }) {
  return (
    <details class="cleared" data-testid="alerts-cleared">
      <summary>Cleared in this shift · {props.alerts.length}</summary>
      <table>
        <thead>
          <tr>
            <th scope="col">alert</th>
            <th scope="col">raised</th>
            <th scope="col">cleared</th>
            <th scope="col" class="num">open for</th>
            <th scope="col">taken on</th>
          </tr>
        </thead>
        <tbody>
          {props.alerts.map((a) => (
            <tr key={a.id}>
              <td>{a.message}</td>
              <td>{plantTime(a.raised_ms, props.offset)}</td>
              <td>{plantTime(a.cleared_ms, props.offset)}</td>
              <td class="num">{duration(((a.cleared_ms ?? a.raised_ms) - a.raised_ms) / 1000)}</td>
              <td>{a.acknowledged ? `${a.acknowledged.by}${a.acknowledged.note ? `: ${a.acknowledged.note}` : ""}` : "no one"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

/** `since_ms`: the running shift's start; with `showCleared` (not on a TV), the alerts cleared since. */
export function AlertsPanel(props: { changes: number; offset: number; since_ms: number | null; showCleared: boolean }) {
  const [list, setList] = useState<AlertList | null>(null);
  const [recent, setRecent] = useState<Alert[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reads, setReads] = useState(0);
  useEffect(() => {
    const stop = new AbortController();
    get<AlertList>(twinPath("/alerts?open=true"), stop.signal).then(
      (l) => {
        setList(l);
        setError(null);
      },
      (e: unknown) => {
        if (!stop.signal.aborted) setError(e instanceof Error ? e.message : String(e));
      },
    );
    if (props.showCleared)
      get<AlertList>(twinPath("/alerts?limit=200"), stop.signal).then(
        (l) => setRecent(l.alerts),
        () => setRecent([]),
      );
    return () => stop.abort();
  }, [props.changes, reads, props.showCleared]);
  const open = [...(list?.alerts ?? [])].sort(severityFirst);
  const since = props.since_ms;
  const cleared = since == null ? [] : recent.filter((a) => a.cleared_ms != null && a.cleared_ms >= since).sort((a, b) => (b.cleared_ms ?? 0) - (a.cleared_ms ?? 0));
  return (
    <section class="panel alerts" aria-label="alerts" data-testid="alerts">
      <h2>
        Alerts{list ? ` · ${open.length === 0 ? "none open" : `${open.length} open`}` : ""}
      </h2>
      {error ? <p class="error">The alerts could not be read: {error}</p> : null}
      {list && open.length === 0 ? (
        <p class="quiet">
          Nothing needs attention. Watched: {list.rules.length === 0 ? "no rules (alerts are off)" : list.rules.map((r) => r.description).join("; ")}.
        </p>
      ) : null}
      {open.length > 0 ? (
        <ul>
          {open.map((a) => (
            <li key={a.id} class={`alert ${a.severity}`} data-testid="alert">
              <span class="what">
                {a.severity === "critical" ? "Critical: " : ""}
                {a.message}
              </span>
              <span class="when">raised {plantTime(a.raised_ms, props.offset)}</span>
              {a.acknowledged ? (
                <span class="taken">
                  taken on by {a.acknowledged.by}
                  {a.acknowledged.note ? `: ${a.acknowledged.note}` : ""} at {plantTime(a.acknowledged.at_ms, props.offset)}
                </span>
              ) : (
                <TakeOn alert={a} onDone={() => setReads((n) => n + 1)} />
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {cleared.length > 0 ? <Cleared alerts={cleared} offset={props.offset} /> : null}
    </section>
  );
}

// A job on the server (a simulation, a schedule, a maintenance plan): started, followed until it
// ends (its progress every half second), cancelled on request.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, get, post, remove, type Schemas } from "../api";

export type JobView = Schemas["JobView"];
type JobAccepted = Schemas["JobAccepted"];

const POLL_MS = 500;

export type Job = {
  view: JobView | null;
  error: string | null;
  running: boolean;
  start: (path: string, body: unknown) => void;
  /** Follows a job submitted before (from the list of earlier jobs). */
  open: (id: string) => void;
  cancel: () => void;
};

function words(e: unknown): string {
  if (e instanceof ApiError) {
    const fields = e.problem?.errors?.map((f) => `${f.field}: ${f.message}`).join("; ");
    return fields ? `${e.message} (${fields})` : e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

export function useJob(): Job {
  const [view, setView] = useState<JobView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const id = useRef<string | null>(null);
  const stop = useRef<AbortController | null>(null);
  useEffect(() => () => stop.current?.abort(), []);

  const follow = useCallback(async (jobId: string, signal: AbortSignal) => {
    for (;;) {
      const v = await get<JobView>(`/jobs/${encodeURIComponent(jobId)}`, signal);
      setView(v);
      if (v.status !== "queued" && v.status !== "running") return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }, []);

  /** Follows the job `begin` gives (its id), in place of any followed before. */
  const track = useCallback(
    (begin: (signal: AbortSignal) => Promise<string>) => {
      stop.current?.abort();
      const controller = new AbortController();
      stop.current = controller;
      setView(null);
      setError(null);
      setRunning(true);
      begin(controller.signal)
        .then((jobId) => {
          id.current = jobId;
          return follow(jobId, controller.signal);
        })
        .catch((e: unknown) => {
          if (!controller.signal.aborted) setError(words(e));
        })
        .finally(() => {
          if (stop.current === controller) setRunning(false);
        });
    },
    [follow],
  );

  const start = useCallback(
    (path: string, body: unknown) => track((signal) => post<JobAccepted>(path, body, signal).then((accepted) => accepted.id)),
    [track],
  );

  const open = useCallback((jobId: string) => track(() => Promise.resolve(jobId)), [track]);

  const cancel = useCallback(() => {
    if (!id.current) return;
    remove(`/jobs/${encodeURIComponent(id.current)}`).catch((e: unknown) => setError(words(e)));
  }, []);

  return { view, error, running, start, open, cancel };
}

/** A job's progress in words and as a bar; a refused request in words instead. */
export function JobProgress(props: { job: Job; what: string }) {
  const { view, running, error } = props.job;
  if (error) {
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  }
  if (!running && !view) return null;
  const p = view?.progress;
  const status = view?.status ?? "starting";
  return (
    <div class="job" role="status" data-testid="job-status">
      <span>
        {props.what}: {status}
        {p && p.total > 0 ? ` (${p.done} of ${p.total})` : ""}
      </span>
      {p && p.total > 0 && running ? <progress max={p.total} value={p.done} /> : null}
      {running ? (
        <button type="button" onClick={props.job.cancel}>
          cancel
        </button>
      ) : null}
      {view?.error ? <span class="error"> {view.error}</span> : null}
    </div>
  );
}

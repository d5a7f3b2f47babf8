// The jobs of one kind submitted before (GET /jobs, newest first): what each was (its title: the
// plant, its variants, objective or horizon), when, how it stands, and a button to open it again. A planner who closed the page finds a study here instead of running
// it again. Read when the page opens and each time a job of the page ends.
import { useEffect, useState } from "preact/hooks";
import { get, type Schemas } from "../api";
import { plantTime } from "../format";

type JobList = Schemas["JobList"];
type JobSummary = Schemas["JobSummary"];

/** How many jobs are listed, newest first. */
const ASKED = 50;

/** The browser's own time: jobs are the planner's, not the plant's. */
function localTime(ms: number | null | undefined): string {
  return plantTime(ms, -new Date().getTimezoneOffset());
}

function standing(j: JobSummary): string {
  if (j.status === "running" && j.progress && j.progress.total > 0) return `running, ${Math.floor((100 * j.progress.done) / j.progress.total)} %`;
  return j.status;
}

/** What the list calls the jobs of each kind, and one of them. */
const NAMES: Record<string, [string, string]> = {
  simulation: ["Earlier studies", "study"],
  schedule: ["Earlier schedules", "schedule"],
  "maintenance-plan": ["Earlier maintenance plans", "plan"],
};

/** `kind`: the jobs listed (`simulation`, …); `refresh`: read again when it changes; `onOpen`: a job to show. */
export function EarlierJobs(props: { kind: string; refresh: unknown; openId: string | null; onOpen: (id: string) => void }) {
  const [title, one] = NAMES[props.kind] ?? ["Earlier jobs", "job"];
  const [jobs, setJobs] = useState<JobSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    get<JobList>(`/jobs?limit=${ASKED}&kind=${encodeURIComponent(props.kind)}`).then(
      (l) => {
        if (gone) return;
        setJobs(l.jobs);
        setError(null);
      },
      (e: unknown) => !gone && setError(e instanceof Error ? e.message : String(e)),
    );
    return () => {
      gone = true;
    };
  }, [props.kind, props.refresh]);
  if (error) return <p class="error">Earlier jobs could not be read: {error}</p>;
  if (!jobs?.length) return null;
  return (
    <details class="earlier-jobs" data-testid="earlier-jobs">
      <summary>
        {title} ({jobs.length})
      </summary>
      <table>
        <thead>
          <tr>
            <th scope="col">submitted</th>
            <th scope="col">what</th>
            <th scope="col">status</th>
            <th scope="col">ended</th>
            <th scope="col">{one}</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.id}>
              <td>{localTime(j.created_ms)}</td>
              <td class="what">{j.title ?? "–"}</td>
              <td title={j.error ?? undefined}>{standing(j)}</td>
              <td>{j.finished_ms == null ? "–" : localTime(j.finished_ms)}</td>
              <td>
                {j.id === props.openId ? (
                  <span class="quiet">shown</span>
                ) : (
                  <button type="button" onClick={() => props.onOpen(j.id)} aria-label={`open the ${one} submitted ${localTime(j.created_ms)}${j.title ? `: ${j.title}` : ""}`}>
                    open
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

// A finished study: the decision in words per variant, each variant's difference to the base with
// its 95 % interval, a sweep's response curve with its band, every KPI in a table, and the exports.
import { useMemo, useState } from "preact/hooks";
import { getBlob } from "../api";
import { Chart } from "../chart";
import { download } from "../download";
import { count, duration, percent } from "../format";
import { differencesOption, responseOption, sweepOf } from "./charts";
import { decision, estimateOf, experimentCsv, kpiChangeWithin, kpiEstimate, kpiOf, labelOf, type Experiment } from "./kpis";

function firstKpi(x: Experiment): string {
  return x.kpis.find((k) => k.key === "throughput_per_hour")?.key ?? x.kpis[0]?.key ?? "";
}

export function Results(props: { experiment: Experiment; jobId: string }) {
  const x = props.experiment;
  const [key, setKey] = useState(firstKpi(x));
  const [reportError, setReportError] = useState<string | null>(null);
  const differences = useMemo(() => differencesOption(x, key), [x, key]);
  const response = useMemo(() => responseOption(x, key), [x, key]);
  const sweep = sweepOf(x);
  const named = x.variants.slice(1).filter((v) => v.sweep_point.length === 0);
  const locked = x.variants.filter((v) => v.summary.deadlock);
  const label = labelOf(x, key);
  return (
    <section class="panel results" aria-label="results" data-testid="results">
      <h2>
        {x.scenario}: {x.variants.length - 1} variant(s) against the base
        <button type="button" onClick={() => download("whatif.csv", experimentCsv(x), "text/csv")}>
          export CSV
        </button>
        <button type="button" onClick={() => download("whatif.json", JSON.stringify(x, null, 2), "application/json")}>
          export JSON
        </button>
        <button
          type="button"
          onClick={() => {
            setReportError(null);
            getBlob(`/jobs/${encodeURIComponent(props.jobId)}/report`).then(
              (blob) => download("whatif-report.html", blob, "text/html"),
              (e: unknown) => setReportError(e instanceof Error ? e.message : String(e)),
            );
          }}
        >
          HTML report
        </button>
      </h2>
      {reportError ? <p class="error">{reportError}</p> : null}
      <p class="figures">
        <span>
          {count(x.replications)} replications per variant, common random numbers (seed {x.seed})
        </span>
        <span>
          horizon {duration(x.horizon_s)}, warm-up {duration(x.warmup_s)} ({x.warmup_method})
        </span>
        {x.precision != null ? (
          <span class={x.precision_reached ? "" : "bad"}>
            precision ± {percent(x.precision)} {x.precision_reached ? "reached" : "NOT reached within the cap: intervals are wider"}
          </span>
        ) : null}
      </p>
      {locked.map((v) => (
        <p key={v.name} class="banner" role="alert">
          {v.name}: the plant locked up in {count(v.summary.deadlock!.replications)} of {count(v.summary.deadlock!.of)} replications; its figures stop there.
        </p>
      ))}
      <label class="kpi-choice">
        KPI
        <select value={key} onChange={(e) => setKey(e.currentTarget.value)}>
          {x.kpis.map(({ key: k }) => (
            <option key={k} value={k}>
              {labelOf(x, k)}
            </option>
          ))}
        </select>
      </label>
      <p class="quiet">
        Base: {kpiEstimate(kpiOf(x, key), estimateOf(x.variants[0]!, key)?.mean, estimateOf(x.variants[0]!, key)?.ci95)} (mean ± 95 % half-width). Differences are paired by
        replication; a change is significant when its 95 % interval excludes 0.
      </p>
      <ul class="decisions" data-testid="decisions">
        {(named.length ? named : x.variants.slice(1)).map((v) => {
          const d = decision(x, v, key);
          return (
            <li key={v.name} class={d.significant ? "significant" : "quiet"}>
              {d.words}
            </li>
          );
        })}
        {named.length && sweep ? <li class="quiet">The sweep over {sweep.path}: see its curve below and the table.</li> : null}
      </ul>
      <h3>Change of {label} against the base, with 95 % intervals</h3>
      <Chart option={differences} height={60 + 32 * Math.max(1, x.variants.length - 1)} label={`change of ${label} per variant against the base, with 95 % intervals`} testId="differences" />
      {response && sweep ? (
        <>
          <h3>
            {label} over {sweep.path}, with its 95 % band
          </h3>
          <Chart option={response} height={320} label={`${label} over ${sweep.path}`} testId="response-curve" />
        </>
      ) : null}
      <div class="scroll" tabIndex={0} role="region" aria-label="all figures per variant">
        <table data-testid="kpi-table">
          <caption>Every KPI: the base's mean, and each variant's change (bold: significant)</caption>
          <thead>
            <tr>
              <th scope="col">KPI</th>
              <th scope="col" class="num">
                base
              </th>
              {x.variants.slice(1).map((v) => (
                <th key={v.name} scope="col" class="num">
                  {v.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {x.kpis.map(({ key: k }) => {
              const b = estimateOf(x.variants[0]!, k);
              return (
                <tr key={k}>
                  <th scope="row">{labelOf(x, k)}</th>
                  <td class="num">{kpiEstimate(kpiOf(x, k), b?.mean, b?.ci95)}</td>
                  {x.variants.slice(1).map((v) => {
                    const d = estimateOf(v, k)?.difference;
                    const same = d && d.mean === 0 && (d.ci95 ?? 0) === 0;
                    return (
                      <td key={v.name} class={`num${d?.significant ? " significant" : ""}${same ? " quiet" : ""}`}>
                        {same ? "same in every run" : d ? kpiChangeWithin(kpiOf(x, k), d.mean, d.ci95) : "–"}
                      </td>
                    );
                  })}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

// The maintenance planner (maintenance engineer): a plant and what failures, services and stops
// cost -> a planning job -> the services on a calendar beside production time, each machine's
// risk over time with and without them, the plan against running to failure and a fixed interval
// in the simulator, and the scenario with the plan in it.
import { useState } from "preact/hooks";
import { post, type Schemas } from "../api";
import { download } from "../download";
import { count, duration, grouped, money, offsetOf, percent, plantTime } from "../format";
import { EarlierJobs } from "../jobs/EarlierJobs";
import { JobProgress, useJob } from "../jobs/job";
import { ScenarioPicker, scenarioFields, type ScenarioChoice } from "../jobs/ScenarioPicker";
import { PlanCalendar } from "./Calendar";
import type { MaintenanceResult } from "./plan";
import { Policies } from "./Policies";
import { RiskChart } from "./RiskChart";

function NumberField(props: { label: string; value: number; min?: number; max?: number; step?: number; onChange: (v: number) => void }) {
  return (
    <label>
      {props.label}
      <input type="number" min={props.min ?? 0} max={props.max} step={props.step ?? 1} value={props.value} onInput={(e) => props.onChange(Number(e.currentTarget.value))} />
    </label>
  );
}

export function Planner() {
  const [scenario, setScenario] = useState<ScenarioChoice>(null);
  const [horizon, setHorizon] = useState("14d");
  const [bucket, setBucket] = useState("4h");
  const [service, setService] = useState("1h");
  const [currency, setCurrency] = useState("EUR");
  const [repair, setRepair] = useState(800);
  const [serviceCost, setServiceCost] = useState(300);
  const [downtime, setDowntime] = useState(1000);
  const [maxRisk, setMaxRisk] = useState(100);
  const [solver, setSolver] = useState("milp");
  const [compare, setCompare] = useState(10);
  const [stored, setStored] = useState<string | null>(null);
  const [asked, setAsked] = useState(solver);
  const job = useJob();
  const result = job.view?.status === "done" ? (job.view.result as MaintenanceResult | null) : null;
  const offset = result ? offsetOf(result.start) : 0;
  const at = (s: number) => (result ? plantTime(Date.parse(result.start) + s * 1000, offset) : "–");
  return (
    <main class="maintenance" aria-label="maintenance planner">
      <h1>Maintenance planner</h1>
      <form
        class="job-form"
        onSubmit={(e) => {
          e.preventDefault();
          setStored(null);
          setAsked(solver);
          job.start("/maintenance-plans", {
            ...scenarioFields(scenario),
            horizon,
            bucket,
            service_duration: service,
            repair_cost: repair,
            service_cost: serviceCost,
            downtime_cost: downtime,
            max_risk: maxRisk / 100,
            solver,
            ...(compare > 0 ? { compare } : {}),
          });
        }}
      >
        <ScenarioPicker value={scenario} onChange={setScenario} pickFirst twin />
        <fieldset>
          <legend>Horizon</legend>
          <label>
            Plan over
            <input value={horizon} size={5} onInput={(e) => setHorizon(e.currentTarget.value)} />
          </label>
          <label>
            in steps of
            <input value={bucket} size={5} onInput={(e) => setBucket(e.currentTarget.value)} />
          </label>
          <label>
            A service takes
            <input value={service} size={5} aria-describedby="service-help" onInput={(e) => setService(e.currentTarget.value)} />
          </label>
          <span id="service-help" class="quiet">
            where the station has no maintenance of its own
          </span>
        </fieldset>
        <fieldset>
          <legend>Costs</legend>
          <label>
            Currency
            <input value={currency} size={4} onInput={(e) => setCurrency(e.currentTarget.value)} />
          </label>
          <NumberField label={`Repair after a failure (${currency})`} value={repair} onChange={setRepair} />
          <NumberField label={`Planned service (${currency})`} value={serviceCost} onChange={setServiceCost} />
          <NumberField label={`Lost margin per hour stopped (${currency}/h)`} value={downtime} onChange={setDowntime} />
        </fieldset>
        <fieldset>
          <legend>Rules</legend>
          <NumberField label="Risk limit between services (%)" value={maxRisk} min={1} max={100} onChange={setMaxRisk} />
          <label>
            Solver
            <select value={solver} onChange={(e) => setSolver(e.currentTarget.value)}>
              <option value="milp">MILP (exact)</option>
              <option value="greedy">greedy (instant)</option>
            </select>
          </label>
          <NumberField label="Compare in the simulator (runs)" value={compare} max={1000} onChange={setCompare} />
        </fieldset>
        <button type="submit" disabled={!scenario || job.running}>
          Plan
        </button>
      </form>
      <EarlierJobs kind="maintenance-plan" refresh={job.view?.status} openId={job.view?.id ?? null} onOpen={job.open} />
      <JobProgress job={job} what="planning" />
      {result ? (
        <>
          <section class="panel" aria-label="the plan" data-testid="maintenance-plan">
            <h2>
              {result.scenario}: {count(result.plan.windows.length)} services over {duration(result.settings.horizon_s)} from {plantTime(Date.parse(result.start), offset)}
              {result.planned_scenario ? (
                <>
                  <button type="button" onClick={() => download("planned-scenario.toml", result.planned_scenario!, "application/toml")}>
                    download the planned scenario
                  </button>
                  <button
                    type="button"
                    disabled={stored !== null}
                    onClick={() => {
                      void post<Schemas["ScenarioCreated"]>("/scenarios", { toml: result.planned_scenario }).then(
                        (c) => setStored(c.id),
                        (e: unknown) => setStored(`not stored: ${e instanceof Error ? e.message : String(e)}`),
                      );
                    }}
                  >
                    {stored ? (stored.startsWith("not") ? stored : "stored on the server") : "store on the server"}
                  </button>
                </>
              ) : null}
            </h2>
            <p class="figures">
              <span>
                expected cost with the plan {money(result.plan.expected_cost, currency)}; running to failure {money(result.plan.run_to_failure_cost, currency)}
              </span>
              <span>({result.plan.solver}; failure model from the scenario's distributions)</span>
            </p>
            {asked === "milp" && !result.plan.solver.startsWith("milp") ? (
              <p class="warning" data-testid="no-milp">
                This server was built without the MILP: the greedy heuristic planned instead (a build with the `milp` feature has it; see scripts/setup.sh).
              </p>
            ) : null}
            {result.notes.length ? (
              <ul class="deviations">
                {result.notes.map((n) => (
                  <li key={n}>{n}</li>
                ))}
              </ul>
            ) : null}
            <PlanCalendar result={result} />
          </section>
          <section class="panel" aria-label="services">
            <h2>Services</h2>
            <table data-testid="windows">
              <thead>
                <tr>
                  <th scope="col">machine</th>
                  <th scope="col">start</th>
                  <th scope="col" class="num">takes</th>
                  <th scope="col" class="num">crew</th>
                  <th scope="col" class="num">risk before</th>
                  <th scope="col" class="num">risk after (without)</th>
                  <th scope="col" class="num">lost production</th>
                </tr>
              </thead>
              <tbody>
                {result.plan.windows.map((w) => (
                  <tr key={`${w.machine}-${w.start_s}`}>
                    <td>{w.machine}</td>
                    <td>{at(w.start_s)}</td>
                    <td class="num">{duration(w.duration_s)}</td>
                    <td class="num">{count(w.crew)}</td>
                    <td class="num">{percent(w.risk_before)}</td>
                    <td class="num">
                      {percent(w.risk_after)} ({percent(w.risk_without)})
                    </td>
                    <td class="num">{money(w.production_cost, currency)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <table>
              <caption>Per machine over the horizon</caption>
              <thead>
                <tr>
                  <th scope="col">machine</th>
                  <th scope="col">failure modes planned for</th>
                  <th scope="col" class="num">services</th>
                  <th scope="col" class="num">expected failures with the plan</th>
                  <th scope="col" class="num">running to failure</th>
                </tr>
              </thead>
              <tbody>
                {result.machines.map((m, i) => {
                  const p = result.plan.machines[i];
                  return (
                    <tr key={m.name}>
                      <td>{m.name}</td>
                      <td>{m.modes.join(", ")}</td>
                      <td class="num">{count(p?.services)}</td>
                      <td class="num">{p ? grouped(p.expected_failures, 2) : "–"}</td>
                      <td class="num">{p ? grouped(p.run_to_failure_failures, 2) : "–"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </section>
          <section class="panel" aria-label="risk over time">
            <h2>Chance of a failure since the last renewal</h2>
            <RiskChart result={result} />
          </section>
          {result.comparison ? (
            <section class="panel" aria-label="policies compared">
              <h2>The plan against running to failure and a fixed interval, in the simulator</h2>
              <Policies comparison={result.comparison} currency={currency} from={at(0)} />
            </section>
          ) : null}
        </>
      ) : null}
    </main>
  );
}

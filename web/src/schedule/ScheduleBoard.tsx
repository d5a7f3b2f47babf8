// The schedule board (planner): a plant's order book -> a planning job (objective, solver, time
// limit, a robustness check in the simulator) -> the plan as a Gantt chart, its orders with their
// due dates and chance to be on time, exported as CSV.
import { useState } from "preact/hooks";
import type { Schemas } from "../api";
import { csvField, download } from "../download";
import { count, duration, offsetOf, percent, plantTime } from "../format";
import { EarlierJobs } from "../jobs/EarlierJobs";
import { JobProgress, useJob } from "../jobs/job";
import { ScenarioPicker, scenarioFields, type ScenarioChoice } from "../jobs/ScenarioPicker";
import { Gantt } from "./Gantt";

type Plan = Schemas["PlantSchedule"];

function csv(plan: Plan): string {
  const offset = offsetOf(plan.start);
  const t0 = Date.parse(plan.start);
  const at = (s: number) => plantTime(t0 + s * 1000, offset, true);
  const rows = [
    ["order", "step", "product", "quantity", "station", "machine", "setup_start", "start", "end", "setup_min", "run_min"].join(","),
    ...plan.operations.map((o) =>
      [o.order, String(o.operation), o.product, String(o.quantity), o.station, o.machine, at(o.setup_start_s), at(o.start_s), at(o.end_s), ((o.start_s - o.setup_start_s) / 60).toFixed(1), ((o.end_s - o.start_s) / 60).toFixed(1)]
        .map(csvField)
        .join(","),
    ),
  ];
  return rows.join("\n") + "\n";
}

/** The objective's first level in words ("late,tardiness" -> "the late orders"). */
function firstLevel(objective: string): string {
  const level = objective.split(",")[0] ?? "";
  const words: Record<string, string> = {
    makespan: "the makespan",
    tardiness: "the weighted tardiness",
    late: "the late orders",
    setup: "the setups",
  };
  return words[level] ?? "the objective";
}

export function ScheduleBoard() {
  const [scenario, setScenario] = useState<ScenarioChoice>(null);
  const [objective, setObjective] = useState("tardiness");
  const [solver, setSolver] = useState("auto");
  const [timeLimit, setTimeLimit] = useState("10s");
  const [replications, setReplications] = useState(30);
  const job = useJob();
  const plan = job.view?.status === "done" ? (job.view.result as Plan | null) : null;
  const offset = plan ? offsetOf(plan.start) : 0;
  const onTime = new Map((plan?.robustness?.orders ?? []).map((o) => [o.order, o.on_time_probability]));
  return (
    <main class="schedule" aria-label="schedule board">
      <h1>Schedule board</h1>
      <form
        class="job-form"
        onSubmit={(e) => {
          e.preventDefault();
          job.start("/schedules", {
            ...scenarioFields(scenario),
            objective,
            solver,
            time_limit: timeLimit,
            // 0 runs: no robustness check (the API takes the field's absence for that).
            ...(replications > 0 ? { robustness_replications: replications } : {}),
          });
        }}
      >
        <ScenarioPicker value={scenario} onChange={setScenario} />
        <fieldset>
          <legend>Plan</legend>
          <label>
            Objective
            <select value={objective} onChange={(e) => setObjective(e.currentTarget.value)}>
              <option value="tardiness">weighted tardiness (due dates)</option>
              <option value="late-orders">number of late orders</option>
              <option value="makespan">makespan (everything done soonest)</option>
            </select>
          </label>
          <label>
            Solver
            <select value={solver} onChange={(e) => setSolver(e.currentTarget.value)}>
              <option value="auto">auto</option>
              <option value="dispatch">dispatching rules (instant)</option>
              <option value="search">local search</option>
              <option value="milp">MILP (small books)</option>
            </select>
          </label>
          <label>
            Time limit
            <input value={timeLimit} onInput={(e) => setTimeLimit(e.currentTarget.value)} size={6} aria-describedby="limit-help" />
          </label>
          <span id="limit-help" class="quiet">
            e.g. 10s, 2min
          </span>
          <label>
            Robustness runs
            <input type="number" min={0} max={1000} value={replications} onInput={(e) => setReplications(Number(e.currentTarget.value))} />
          </label>
        </fieldset>
        <button type="submit" disabled={!scenario || job.running}>
          Plan
        </button>
      </form>
      <EarlierJobs kind="schedule" refresh={job.view?.status} openId={job.view?.id ?? null} onOpen={job.open} />
      <JobProgress job={job} what="planning" />
      {plan ? (
        <>
          <section class="panel" aria-label="the plan" data-testid="plan">
            <h2>
              {plan.scenario}: {plan.operations.length} operations of {plan.orders.length} orders
              <button type="button" onClick={() => download("schedule.csv", csv(plan), "text/csv")}>
                export CSV
              </button>
            </h2>
            <p class="figures">
              <span>
                from {plantTime(Date.parse(plan.start), offset)} to {plantTime(Date.parse(plan.ends), offset)} ({duration(plan.makespan_s)})
              </span>
              <span class={plan.late_orders ? "bad" : ""}>
                {count(plan.late_orders)} of {count(plan.orders_with_due)} orders with a due date late
              </span>
              <span>weighted tardiness {duration(plan.weighted_tardiness_s)}</span>
              <span>setups {duration(plan.setup_s)}</span>
              <span>
                {plan.solver}, {duration(plan.seconds)}{plan.proven_optimal ? ", proven optimal" : ""}
              </span>
            </p>
            <p class="quiet" data-testid="plan-bound">
              Whatever the plan: at least {count(plan.lower_bound.late_orders)} {plan.lower_bound.late_orders === 1 ? "order" : "orders"} late, weighted tardiness at
              least {duration(plan.lower_bound.weighted_tardiness_s)}, makespan at least {duration(plan.lower_bound.makespan_s)} (each order's own path and the
              machines' load; changeovers left out).{" "}
              {plan.lower_bound.gap == null
                ? `The bound of ${firstLevel(plan.objective)} is 0, so it cannot say how much a better plan could win.`
                : `A better plan could cut ${firstLevel(plan.objective)} by at most ${percent(plan.lower_bound.gap)}.`}
            </p>
            <p class="legend quiet">
              Red outline: a late order; ▼: an order's due date on the machine that finishes it; dashed lines: midnight, plant time. Wheel or drag to zoom and pan;
              hover for details.
            </p>
            <Gantt plan={plan} offset={offset} />
          </section>
          <section class="panel" aria-label="orders">
            <h2>Orders</h2>
            {plan.robustness ? (
              <p class="quiet">
                On time: the share of {plan.robustness.replications} simulated runs of this plan (with failures, scrap and variable times) that finish the order by its due date.
              </p>
            ) : null}
            <table data-testid="plan-orders">
              <thead>
                <tr>
                  <th scope="col">order</th>
                  <th scope="col">product</th>
                  <th scope="col" class="num">quantity</th>
                  <th scope="col">due</th>
                  <th scope="col">planned completion</th>
                  <th scope="col" class="num">late by</th>
                  <th scope="col" class="num">on time</th>
                </tr>
              </thead>
              <tbody>
                {plan.orders.map((o) => (
                  <tr key={o.order} class={o.late ? "late" : ""}>
                    <td>{o.order}</td>
                    <td>{o.product}</td>
                    <td class="num">{count(o.quantity)}</td>
                    <td>{o.due ? plantTime(Date.parse(o.due), offset) : "–"}</td>
                    <td>{plantTime(Date.parse(o.completion), offset)}</td>
                    <td class="num">{o.late ? duration(o.lateness_s) : "–"}</td>
                    <td class="num">{onTime.has(o.order) ? percent(onTime.get(o.order)) : "–"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </section>
        </>
      ) : null}
    </main>
  );
}

// The what-if studio (planner): a plant, variants built over its fields, a sweep, replications or a
// precision target -> a simulation job (progress, cancel) -> differences to the base with their
// 95 % intervals and the decision in words, a sweep's response curve, CSV, JSON and the HTML report.
import { useEffect, useState } from "preact/hooks";
import { get, post, type Schemas } from "../api";
import { EarlierJobs } from "../jobs/EarlierJobs";
import { JobProgress, useJob } from "../jobs/job";
import { ScenarioPicker, scenarioFields, type ScenarioChoice } from "../jobs/ScenarioPicker";
import type { Experiment } from "./kpis";
import { Results } from "./Results";
import { PathChoices, SweepForm, VariantForm, requestOf, type OverridePath, type SweepDraft, type VariantDraft } from "./VariantForm";

/** The fields of the chosen plant a variant may change (from the server's validation). */
function useOverridePaths(choice: ScenarioChoice): { paths: OverridePath[]; error: string | null } {
  const [paths, setPaths] = useState<OverridePath[]>([]);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setPaths([]);
    setError(null);
    // The studio offers no live plant (its picker has no `twin`).
    if (!choice || "from_twin" in choice) return;
    let gone = false;
    const text =
      "scenario_id" in choice
        ? get<Schemas["StoredScenario"]>(`/scenarios/${encodeURIComponent(choice.scenario_id)}`).then((s) => s.toml)
        : Promise.resolve(choice.scenario);
    const book = "order_book" in choice && choice.order_book ? { order_book: choice.order_book } : {};
    text
      .then((toml) => post<Schemas["ScenarioCheck"]>("/scenarios/validate", { toml, ...book }))
      .then(
        (check) => !gone && setPaths(check.override_paths),
        (e: unknown) => !gone && setError(e instanceof Error ? e.message : String(e)),
      );
    return () => {
      gone = true;
    };
  }, [choice]);
  return { paths, error };
}

export function Studio() {
  const [scenario, setScenario] = useState<ScenarioChoice>(null);
  const { paths, error: pathsError } = useOverridePaths(scenario);
  const [variants, setVariants] = useState<VariantDraft[]>([{ name: "", changes: [{ path: "", value: "" }] }]);
  const [sweep, setSweep] = useState<SweepDraft>({ path: "", values: "" });
  const [toPrecision, setToPrecision] = useState(false);
  const [replications, setReplications] = useState(10);
  const [precisionPercent, setPrecisionPercent] = useState(2);
  const [cap, setCap] = useState(100);
  const [horizon, setHorizon] = useState("");
  const job = useJob();
  const experiment = job.view?.status === "done" ? (job.view.result as Experiment | null) : null;
  const asked = requestOf(
    variants.filter((v) => v.name.trim() || v.changes.some((c) => c.path)),
    sweep,
  );
  const nothing = asked.variants.length === 0 && asked.sweeps.length === 0;
  return (
    <main class="whatif" aria-label="what-if studio">
      <h1>What-if studio</h1>
      <p class="quiet">
        Compare variants of a plant with its base: each runs with the same random numbers, so a difference is the change's, not luck's.
      </p>
      <form
        class="job-form studio-form"
        onSubmit={(e) => {
          e.preventDefault();
          job.start("/simulations", {
            ...scenarioFields(scenario),
            ...asked,
            replications,
            ...(toPrecision ? { precision: precisionPercent / 100, max_replications: cap } : {}),
            ...(horizon.trim() ? { horizon: horizon.trim() } : {}),
          });
        }}
      >
        <ScenarioPicker value={scenario} onChange={setScenario} pickFirst />
        {pathsError ? (
          <p class="error" role="alert">
            {pathsError}
          </p>
        ) : null}
        <PathChoices paths={paths} />
        <div class="variants">
          {variants.map((v, i) => (
            <VariantForm
              key={i}
              draft={v}
              index={i}
              paths={paths}
              onChange={(d) => setVariants(d ? variants.map((x, j) => (j === i ? d : x)) : variants.filter((_, j) => j !== i))}
            />
          ))}
          <button type="button" onClick={() => setVariants([...variants, { name: "", changes: [{ path: "", value: "" }] }])}>
            add a variant
          </button>
        </div>
        <SweepForm draft={sweep} paths={paths} onChange={setSweep} />
        <fieldset>
          <legend>Replications</legend>
          <label class="inline">
            <input type="radio" name="replication-mode" checked={!toPrecision} onChange={() => setToPrecision(false)} />a fixed number
          </label>
          <label class="inline">
            <input type="radio" name="replication-mode" checked={toPrecision} onChange={() => setToPrecision(true)} />
            until precise enough
          </label>
          <label>
            {toPrecision ? "First round" : "Replications"}
            <input type="number" min={2} max={1000} value={replications} onInput={(e) => setReplications(Number(e.currentTarget.value))} />
          </label>
          {toPrecision ? (
            <>
              <label>
                Half-width within (% of the mean)
                <input type="number" min={0.1} max={50} step={0.1} value={precisionPercent} onInput={(e) => setPrecisionPercent(Number(e.currentTarget.value))} />
              </label>
              <label>
                At most
                <input type="number" min={2} max={1000} value={cap} onInput={(e) => setCap(Number(e.currentTarget.value))} />
              </label>
            </>
          ) : null}
          <label>
            Horizon
            <input value={horizon} size={7} placeholder="scenario's" aria-describedby="horizon-help" onInput={(e) => setHorizon(e.currentTarget.value)} />
          </label>
          <span id="horizon-help" class="quiet">
            e.g. 8h, 5d
          </span>
        </fieldset>
        <button type="submit" disabled={!scenario || job.running || nothing}>
          Run
        </button>
      </form>
      <EarlierJobs kind="simulation" refresh={job.view?.status} openId={job.view?.id ?? null} onOpen={job.open} />
      <JobProgress job={job} what="simulating" />
      {experiment && job.view ? <Results experiment={experiment} jobId={job.view.id} /> : null}
    </main>
  );
}

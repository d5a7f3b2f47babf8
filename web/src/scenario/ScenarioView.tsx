// The scenario view: a plant file checked by the server, drawn as its line, or its problems shown
// at their lines; a valid one can be stored on the server for the other screens.
import { useState } from "preact/hooks";
import { ApiError, post, type Schemas } from "../api";
import { duration } from "../format";
import { ScenarioFile, type ScenarioUpload } from "../jobs/ScenarioPicker";
import { PlantGraph } from "./PlantGraph";

type Check = Schemas["ScenarioCheck"];
type Problem = { line: number | null; column: number | null; path: string; message: string };

/** "scenario.toml:12:5: stations[0].machines" -> line 12, column 5, the path. */
function located(field: string, message: string): Problem {
  const m = /^[^:]*:(\d+):(\d+):\s*(.*)$/.exec(field);
  return m ? { line: Number(m[1]), column: Number(m[2]), path: m[3] ?? "", message } : { line: null, column: null, path: field, message };
}

export function ScenarioView() {
  const [file, setFile] = useState<ScenarioUpload | null>(null);
  const [check, setCheck] = useState<Check | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [stored, setStored] = useState<string | null>(null);

  const request = (u: ScenarioUpload) => (u.order_book ? { toml: u.text, order_book: u.order_book } : { toml: u.text });
  const validate = (u: ScenarioUpload) => {
    setFile(u);
    setCheck(null);
    setProblems([]);
    setError(null);
    setStored(null);
    post<Check>("/scenarios/validate", request(u)).then(setCheck, (e: unknown) => {
      if (e instanceof ApiError && e.status === 422 && e.problem?.errors?.length) {
        setProblems(e.problem.errors.map((f) => located(f.field, f.message)));
      } else setError(e instanceof Error ? e.message : String(e));
    });
  };
  const byLine = new Map<number, Problem[]>();
  for (const p of problems) if (p.line != null) byLine.set(p.line, [...(byLine.get(p.line) ?? []), p]);

  return (
    <main class="scenario" aria-label="scenario view">
      <h1>Scenario</h1>
      <ScenarioFile onFile={validate} />
      {error ? (
        <p class="error" role="alert">
          {error}
        </p>
      ) : null}
      {check ? (
        <section class="panel" aria-label="the plant" data-testid="scenario-valid">
          <h2>
            {check.name}
            <button
              type="button"
              disabled={!file || stored !== null}
              onClick={() => {
                if (!file) return;
                post<{ id: string }>("/scenarios", request(file)).then(
                  (r) => setStored(r.id),
                  (e: unknown) => setError(e instanceof Error ? e.message : String(e)),
                );
              }}
            >
              {stored ? "stored on the server" : "store on the server"}
            </button>
          </h2>
          <p class="figures">
            <span>valid</span>
            <span>{check.stations} stations</span>
            <span>{check.products} products</span>
            <span>horizon {duration(check.horizon_s)}</span>
          </p>
          <PlantGraph layout={check.layout} />
        </section>
      ) : null}
      {problems.length && file ? (
        <section class="panel" aria-label="problems" data-testid="scenario-problems">
          <h2>
            {file.name}: {problems.length} problem{problems.length === 1 ? "" : "s"}
          </h2>
          <ol class="problems">
            {problems.map((p, i) => (
              <li key={i}>
                {p.line != null ? <a href={`#line-${p.line}`} onClick={(e) => { e.preventDefault(); document.getElementById(`line-${p.line}`)?.scrollIntoView({ block: "center" }); }}>line {p.line}</a> : null}{" "}
                <code>{p.path}</code>: {p.message}
              </li>
            ))}
          </ol>
          <pre class="source" tabIndex={0} aria-label={`${file.name} with its problems`}>
            {file.text.split("\n").map((text, i) => {
              const here = byLine.get(i + 1);
              return (
                <div key={i} id={`line-${i + 1}`} class={here ? "bad-line" : ""}>
                  <span class="line-no">{i + 1}</span>
                  {text}
                  {here ? <span class="line-problem"> ← {here.map((p) => `${p.path}: ${p.message}`).join("; ")}</span> : null}
                </div>
              );
            })}
          </pre>
        </section>
      ) : null}
    </main>
  );
}

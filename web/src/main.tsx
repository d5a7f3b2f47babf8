// takt's screens: one page, one view per task, chosen by the address's fragment (#/board).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { onAuthNeeded, setToken, token } from "./api";
import { TokenForm } from "./Auth";
import { Board } from "./board/Board";
import { Planner } from "./maintenance/Planner";
import { ScenarioView } from "./scenario/ScenarioView";
import { ScheduleBoard } from "./schedule/ScheduleBoard";
import { tvMode } from "./tv";
import { Studio } from "./whatif/Studio";
import "./styles.css";

const VIEWS = [
  { path: "#/board", name: "Line board", view: () => <Board tv={tvMode()} /> },
  { path: "#/whatif", name: "What-if studio", view: () => <Studio /> },
  { path: "#/schedule", name: "Schedule board", view: () => <ScheduleBoard /> },
  { path: "#/maintenance", name: "Maintenance planner", view: () => <Planner /> },
  { path: "#/scenario", name: "Scenario", view: () => <ScenarioView /> },
] as const;

/** The view the address names (`#/board?plant=press` is the board). */
function currentView() {
  const path = window.location.hash.split("?")[0];
  return VIEWS.find((v) => v.path === path) ?? VIEWS[0];
}


function App() {
  const [view, setView] = useState(currentView());
  // The whole address: another plant's board is a fresh board.
  const [address, setAddress] = useState(window.location.hash);
  const [needToken, setNeedToken] = useState(false);
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    const onHash = () => {
      setView(currentView());
      setAddress(window.location.hash);
    };
    window.addEventListener("hashchange", onHash);
    const off = onAuthNeeded(() => setNeedToken(true));
    return () => {
      window.removeEventListener("hashchange", onHash);
      off();
    };
  }, []);
  const tv = tvMode();
  useEffect(() => {
    document.documentElement.classList.toggle("tv", tv);
  }, [tv]);
  return (
    <>
      <nav class="top" aria-label="screens">
        <span class="brand">takt</span>
        {VIEWS.map((v) => (
          <a key={v.path} href={v.path} aria-current={v === view ? "page" : undefined}>
            {v.name}
          </a>
        ))}
        {token() ? (
          <button
            type="button"
            class="link"
            onClick={() => {
              setToken(null);
              setGeneration((g) => g + 1);
            }}
          >
            forget token
          </button>
        ) : null}
      </nav>
      {needToken ? (
        <TokenForm
          onDone={() => {
            setNeedToken(false);
            setGeneration((g) => g + 1);
          }}
        />
      ) : (
        <div key={`${view.path}-${address}-${generation}`}>{view.view()}</div>
      )}
    </>
  );
}

const root = document.getElementById("app");
if (root) render(<App />, root);

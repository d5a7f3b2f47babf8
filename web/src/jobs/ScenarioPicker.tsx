// Which plant a job runs on: a scenario stored on the server, a scenario file (TOML) from this
// computer, or (where the job offers it) a plant of the server as its twin has it now. A file is
// read here and sent as text; the server validates it and names any problem.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, type Schemas } from "../api";

export type ScenarioChoice =
  | { scenario_id: string }
  | { scenario: string; file: string; order_book?: string }
  | { from_twin: true; plant: string; name: string }
  | null;

/** A scenario file from this computer and, where it names one (`orders_csv`), its order book. */
export type ScenarioUpload = { name: string; text: string; order_book?: string };

/**
 * `pickFirst`: choose the first stored scenario (the twin's own plant) until the user chooses.
 * `twin`: offer the server's plants as their twins have them now (the machines' ages mirrored).
 */
export function ScenarioPicker(props: { value: ScenarioChoice; onChange: (c: ScenarioChoice) => void; pickFirst?: boolean; twin?: boolean }) {
  const [stored, setStored] = useState<Schemas["ScenarioSummary"][]>([]);
  const [plants, setPlants] = useState<Schemas["PlantSummary"][]>([]);
  const twin = props.twin ?? false;
  useEffect(() => {
    if (!twin) return;
    get<Schemas["PlantList"]>("/plants").then(
      (list) => setPlants(list.plants),
      () => setPlants([]),
    );
  }, [twin]);
  // The list is read once; the first is chosen through the latest `onChange`.
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;
  const pickFirst = props.pickFirst ?? false;
  useEffect(() => {
    get<Schemas["ScenarioSummary"][]>("/scenarios").then(
      (list) => {
        setStored(list);
        if (pickFirst && list[0]) onChange.current({ scenario_id: list[0].id });
      },
      () => setStored([]),
    );
  }, [pickFirst]);
  const selected = props.value && "scenario_id" in props.value ? props.value.scenario_id : "";
  const live = props.value && "from_twin" in props.value ? props.value.plant : "";
  return (
    <fieldset class="scenario-picker">
      <legend>Plant</legend>
      <ScenarioFile onFile={(u) => props.onChange({ scenario: u.text, file: u.name, ...(u.order_book ? { order_book: u.order_book } : {}) })} />
      {stored.length ? (
        <label>
          or one stored on the server
          <select
            value={selected}
            onChange={(e) => {
              const id = e.currentTarget.value;
              props.onChange(id ? { scenario_id: id } : null);
            }}
          >
            <option value="">–</option>
            {stored.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {plants.length ? (
        <label>
          or a plant as it stands now
          <select
            value={live}
            data-testid="twin-plant"
            onChange={(e) => {
              const plant = plants.find((p) => p.id === e.currentTarget.value);
              props.onChange(plant ? { from_twin: true, plant: plant.id, name: plant.name } : null);
            }}
          >
            <option value="">–</option>
            {plants.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name} (live)
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {props.value && "from_twin" in props.value ? (
        <p class="quiet">Using {props.value.name} as its twin has it now: each machine's time since its last renewal.</p>
      ) : null}
      {props.value && "file" in props.value ? (
        <p class="quiet">
          Using {props.value.file}
          {props.value.order_book ? " with its order book" : ""}.
        </p>
      ) : null}
    </fieldset>
  );
}

/** The CSV a scenario names as its order book, if it names one. */
function orderBookOf(text: string): string | null {
  return /^\s*(?:demand\.)?orders_csv\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? null;
}

/**
 * A scenario file (TOML) from this computer, read as text; where it names its order book as a CSV
 * file, that file too (the server opens no file a request names: the book travels beside it).
 * `onFile` hears of each choice, the book absent until it is chosen.
 */
export function ScenarioFile(props: { onFile: (upload: ScenarioUpload) => void }) {
  const [upload, setUpload] = useState<ScenarioUpload | null>(null);
  const book = upload ? orderBookOf(upload.text) : null;
  const choose = (u: ScenarioUpload) => {
    setUpload(u);
    props.onFile(u);
  };
  return (
    <>
      <label class="file">
        Scenario file (TOML)
        <input
          type="file"
          accept=".toml,text/plain"
          data-testid="scenario-file"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void file.text().then((text) => choose({ name: file.name, text }));
          }}
        />
      </label>
      {upload && book ? (
        <label class="file">
          Its order book: {book}
          <input
            type="file"
            accept=".csv,text/csv,text/plain"
            data-testid="order-book-file"
            onChange={(e) => {
              const file = e.currentTarget.files?.[0];
              if (file) void file.text().then((order_book) => choose({ ...upload, order_book }));
            }}
          />
        </label>
      ) : null}
    </>
  );
}

/** The request fields that name the plant. */
export function scenarioFields(c: ScenarioChoice): { scenario_id?: string; scenario?: string; order_book?: string; from_twin?: boolean; plant?: string } {
  if (!c) return {};
  if ("scenario_id" in c) return { scenario_id: c.scenario_id };
  if ("from_twin" in c) return { from_twin: true, plant: c.plant };
  return c.order_book ? { scenario: c.scenario, order_book: c.order_book } : { scenario: c.scenario };
}

// Which plant a job runs on: a scenario stored on the server, or a scenario file (TOML) from this
// computer. A file is read here and sent as text; the server validates it and names any problem.
import { useEffect, useRef, useState } from "preact/hooks";
import { get, type Schemas } from "../api";

export type ScenarioChoice = { scenario_id: string } | { scenario: string; file: string } | null;

/** `pickFirst`: choose the first stored scenario (the twin's own plant) until the user chooses. */
export function ScenarioPicker(props: { value: ScenarioChoice; onChange: (c: ScenarioChoice) => void; pickFirst?: boolean }) {
  const [stored, setStored] = useState<Schemas["ScenarioSummary"][]>([]);
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
  return (
    <fieldset class="scenario-picker">
      <legend>Plant</legend>
      <ScenarioFile onFile={(name, text) => props.onChange({ scenario: text, file: name })} />
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
      {props.value && "file" in props.value ? <p class="quiet">Using {props.value.file}.</p> : null}
    </fieldset>
  );
}

/** A scenario file (TOML) from this computer, read as text. */
export function ScenarioFile(props: { onFile: (name: string, text: string) => void }) {
  return (
    <label class="file">
      Scenario file (TOML)
      <input
        type="file"
        accept=".toml,text/plain"
        data-testid="scenario-file"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file) void file.text().then((text) => props.onFile(file.name, text));
        }}
      />
    </label>
  );
}

/** The request fields that name the plant. */
export function scenarioFields(c: ScenarioChoice): { scenario_id?: string; scenario?: string } {
  if (!c) return {};
  return "scenario_id" in c ? { scenario_id: c.scenario_id } : { scenario: c.scenario };
}

// The variants of a study, built over the fields the plant has: each variant a name and its changes
// (a field offered from the scenario, with its value now, and the new value); and a sweep of one
// field over values.
import type { Schemas } from "../api";

export type OverridePath = Schemas["OverridePath"];
export type Change = { path: string; value: string };
export type VariantDraft = { name: string; changes: Change[] };
export type SweepDraft = { path: string; values: string };

export const PATHS_LIST = "override-paths";
const NUMERIC_LIST = "override-paths-numeric";

/** The choices of every path input: the scenario's fields with their values now. */
export function PathChoices(props: { paths: OverridePath[] }) {
  const label = (p: OverridePath) => `now ${p.value}${p.written ? "" : " (default)"}`;
  return (
    <>
      <datalist id={PATHS_LIST}>
        {props.paths.map((p) => (
          <option key={p.path} value={p.path} label={label(p)} />
        ))}
      </datalist>
      <datalist id={NUMERIC_LIST}>
        {props.paths
          .filter((p) => p.kind === "integer" || p.kind === "number")
          .map((p) => (
            <option key={p.path} value={p.path} label={label(p)} />
          ))}
      </datalist>
    </>
  );
}

function ChangeRow(props: { change: Change; paths: OverridePath[]; index: number; variant: number; onChange: (c: Change | null) => void }) {
  const { change, paths } = props;
  const known = paths.find((p) => p.path === change.path);
  const id = `v${props.variant}-c${props.index}`;
  return (
    <div class="change" data-testid="change">
      <label>
        Field
        <input
          list={PATHS_LIST}
          value={change.path}
          size={38}
          aria-describedby={`${id}-now`}
          placeholder="e.g. buffers.conveyor-fill-label.capacity"
          onInput={(e) => props.onChange({ ...change, path: e.currentTarget.value.trim() })}
        />
      </label>
      <label>
        New value
        <input value={change.value} size={14} placeholder={known?.value ?? ""} onInput={(e) => props.onChange({ ...change, value: e.currentTarget.value })} />
      </label>
      <span id={`${id}-now`} class={known || !change.path ? "quiet" : "flag"}>
        {known ? `now ${known.value}${known.written ? "" : " (default)"}` : change.path ? "not a field of this plant" : ""}
      </span>
      <button type="button" aria-label={`remove change ${props.index + 1}`} onClick={() => props.onChange(null)}>
        remove
      </button>
    </div>
  );
}

export function VariantForm(props: { draft: VariantDraft; index: number; paths: OverridePath[]; onChange: (d: VariantDraft | null) => void }) {
  const { draft, index } = props;
  const setChange = (k: number, c: Change | null) =>
    props.onChange({ ...draft, changes: c ? draft.changes.map((x, j) => (j === k ? c : x)) : draft.changes.filter((_, j) => j !== k) });
  return (
    <fieldset class="variant" data-testid="variant">
      <legend>Variant {index + 1}</legend>
      <label>
        Name
        <input value={draft.name} size={24} required onInput={(e) => props.onChange({ ...draft, name: e.currentTarget.value })} />
      </label>
      {draft.changes.map((c, k) => (
        <ChangeRow key={k} change={c} paths={props.paths} index={k} variant={index} onChange={(x) => setChange(k, x)} />
      ))}
      <div class="variant-actions">
        <button type="button" onClick={() => props.onChange({ ...draft, changes: [...draft.changes, { path: "", value: "" }] })}>
          add a change
        </button>
        <button type="button" onClick={() => props.onChange(null)}>
          remove variant
        </button>
      </div>
    </fieldset>
  );
}

export function SweepForm(props: { draft: SweepDraft; paths: OverridePath[]; onChange: (d: SweepDraft) => void }) {
  const known = props.paths.find((p) => p.path === props.draft.path);
  return (
    <fieldset class="sweep">
      <legend>Sweep (optional): one field over several values</legend>
      <label>
        Field
        <input
          list={NUMERIC_LIST}
          size={38}
          value={props.draft.path}
          placeholder="a number, e.g. crews.technician.count"
          onInput={(e) => props.onChange({ ...props.draft, path: e.currentTarget.value.trim() })}
        />
      </label>
      <label>
        Values
        <input
          size={16}
          value={props.draft.values}
          placeholder="100..600:100 or 1,2,3"
          aria-describedby="sweep-help"
          onInput={(e) => props.onChange({ ...props.draft, values: e.currentTarget.value.trim() })}
        />
      </label>
      <span id="sweep-help" class="quiet">
        {known ? `now ${known.value}; ` : ""}from..to:step, or a list
      </span>
    </fieldset>
  );
}

/** The request's variants and sweeps, from the form (changes without a field are left out). */
export function requestOf(variants: VariantDraft[], sweep: SweepDraft) {
  return {
    variants: variants.map((v) => ({
      name: v.name.trim(),
      overrides: v.changes.filter((c) => c.path).map((c) => `${c.path}=${c.value.trim()}`),
    })),
    sweeps: sweep.path && sweep.values ? [`${sweep.path}=${sweep.values}`] : [],
  };
}

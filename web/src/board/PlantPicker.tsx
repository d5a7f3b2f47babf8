// The plants of a site, for a board that may show any of them: shown only where the server holds
// more than one plant. Choosing one opens its board (`#/board?plant=ID`), which a link keeps.
import { useEffect, useState } from "preact/hooks";
import { get, type Schemas } from "../api";
import { boardOf, chosenPlant } from "../plant";

type PlantList = Schemas["PlantList"];

export function PlantPicker() {
  const [plants, setPlants] = useState<PlantList["plants"]>([]);
  useEffect(() => {
    const stop = new AbortController();
    // A server of one plant, or one that cannot say, shows no picker: the board is that plant's.
    get<PlantList>("/plants", stop.signal).then(
      (list) => setPlants(list.plants),
      () => undefined,
    );
    return () => stop.abort();
  }, []);
  if (plants.length < 2) return null;
  const chosen = chosenPlant() ?? plants.find((p) => p.default)?.id ?? "";
  return (
    <label class="plant-picker">
      Plant{" "}
      <select
        data-testid="plant-picker"
        value={chosen}
        onChange={(e) => {
          const id = (e.target as HTMLSelectElement).value;
          const plant = plants.find((p) => p.id === id);
          window.location.hash = boardOf(plant && !plant.default ? id : null);
        }}
      >
        {plants.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name}
            {p.default ? " (default)" : ""}
          </option>
        ))}
      </select>
    </label>
  );
}

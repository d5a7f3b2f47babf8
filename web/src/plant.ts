// Which plant of a site the board shows: `#/board?plant=press`; none named, the server's default
// plant (also at /twin/…). Read from the address on each call, so a link or a reload keeps it.

/** The plant the address names, if any. */
export function chosenPlant(): string | null {
  const query = window.location.hash.split("?")[1] ?? "";
  return new URLSearchParams(query).get("plant");
}

/** A twin route of the chosen plant: `/plants/{id}/twin/…`, or the default plant's `/twin/…`. */
export function twinPath(rest: string): string {
  const plant = chosenPlant();
  return plant ? `/plants/${encodeURIComponent(plant)}/twin${rest}` : `/twin${rest}`;
}

/** The board of `plant` (`null`: the default plant). */
export function boardOf(plant: string | null): string {
  return plant ? `#/board?plant=${encodeURIComponent(plant)}` : "#/board";
}

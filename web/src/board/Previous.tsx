// The shift before the running one, complete to its end: what the shift leader hands over.
import type { AssetView, PlantLayout } from "../api";
import { count, percent, plantTime } from "../format";
import { overStandard } from "./Line";

export function Previous(props: { layout: PlantLayout; assets: Map<string, AssetView> }) {
  const offset = props.layout.utc_offset_min;
  const rows = props.layout.stations.flatMap((s) =>
    s.machines.map((m) => ({ name: m, asset: props.assets.get(m) })),
  );
  const first = rows.find((r) => r.asset?.previous_shift)?.asset?.previous_shift;
  return (
    <section class="panel" aria-label="the shift before" data-testid="previous-shift">
      <h2>
        Shift before
        {first ? ` – ${first.shift ?? "unnamed"}, ${plantTime(first.start_ms, offset)} to ${plantTime(first.end_ms, offset).slice(11)}` : ""}
      </h2>
      {first ? (
        <table>
          <thead>
            <tr>
              <th scope="col">machine</th>
              <th scope="col" class="num">good</th>
              <th scope="col" class="num">scrap</th>
              <th scope="col" class="num">availability</th>
              <th scope="col" class="num">performance</th>
              <th scope="col" class="num">quality</th>
              <th scope="col" class="num">OEE</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ name, asset }) => {
              const p = asset?.previous_shift;
              const flag = p ? overStandard(p) : undefined;
              return (
                <tr key={name}>
                  <td>{name}</td>
                  <td class="num">{count(p?.good)}</td>
                  <td class="num">{count(p?.scrap)}</td>
                  <td class="num">{percent(p?.availability)}</td>
                  <td class="num" title={flag}>
                    {percent(p?.performance)}
                    {flag ? " ⚑" : ""}
                  </td>
                  <td class="num">{percent(p?.quality)}</td>
                  <td class="num">{percent(p?.oee)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <p class="quiet">The twin has seen no complete shift before this one yet.</p>
      )}
    </section>
  );
}

// The plan against running to failure and a fixed interval, simulated with the same random
// numbers: each figure's mean with its 95 % half-width, and each policy's paired difference to
// running to failure (bold where significant).
import type { Schemas } from "../api";
import { changeWithin, estimate } from "../format";
import type { MaintenanceResult } from "./plan";

type Comparison = NonNullable<MaintenanceResult["comparison"]>;
type Quantity = Schemas["Quantity"];

/**
 * A mean (or its change against running to failure) with its 95 % half-width, in the unit of the
 * quantity the server names, as every screen and the library write it; costs in the engineer's
 * currency: "14,475 ± 1,203 EUR", "21.5 ± 0.1 %", "−1.2 ± 0.3 pp".
 */
function figure(quantity: Quantity, mean: number, h: number | null | undefined, currency: string, asChange = false): string {
  const text = asChange ? changeWithin(quantity, mean, h) : estimate(quantity, mean, h);
  return quantity === "money" && text !== "–" ? `${text} ${currency}` : text;
}

/** `from`: where every run starts, in plant time (the plan's start). */
export function Policies(props: { comparison: Comparison; currency: string; from: string }) {
  const c = props.comparison;
  const keys = c.policies[0]?.estimates.map((e) => [e.key, e.label] as const) ?? [];
  const cost = (name: string) => c.policies.find((p) => p.name === name)?.estimates.find((e) => e.key === "cost");
  const planned = cost("optimized plan")?.difference;
  return (
    <>
      {planned ? (
        <p class={planned.significant ? "decision significant" : "decision"} data-testid="policy-decision">
          The optimized plan against running to failure: cost {figure("money", planned.mean, planned.ci95, props.currency, true)},{" "}
          {planned.significant ? (planned.mean < 0 ? "significantly cheaper" : "significantly dearer") : "no significant difference: the 95 % interval includes 0"}.
        </p>
      ) : null}
      <table data-testid="policies">
        <caption>
          {c.replications} simulated runs per policy over the horizon from {props.from}, the same random numbers for each (seed {c.seed})
        </caption>
        <thead>
          <tr>
            <th scope="col">figure</th>
            {c.policies.map((p) => (
              <th key={p.name} scope="col" class="num" title={p.description}>
                {p.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {keys.map(([key, label]) => (
            <tr key={key}>
              <th scope="row">{label}</th>
              {c.policies.map((p) => {
                const e = p.estimates.find((x) => x.key === key);
                if (!e) return <td key={p.name}>–</td>;
                const d = e.difference;
                return (
                  <td key={p.name} class="num">
                    {figure(e.quantity, e.mean, e.ci95, props.currency)}
                    {d ? (
                      <div class={d.significant ? "significant" : "quiet"}>
                        {figure(e.quantity, d.mean, d.ci95, props.currency, true)} vs run to failure
                      </div>
                    ) : null}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <ul class="quiet" data-testid="policy-descriptions">
        {c.policies.map((p) => (
          <li key={p.name}>
            {p.name}: {p.description}
          </li>
        ))}
      </ul>
    </>
  );
}

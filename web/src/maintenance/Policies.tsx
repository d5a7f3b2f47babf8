// The plan against running to failure and a fixed interval, simulated with the same random
// numbers: each figure's mean with its 95 % half-width, and each policy's paired difference to
// running to failure (bold where significant).
import type { Schemas } from "../api";
import { count, percent } from "../format";
import { money, type MaintenanceResult } from "./plan";

type Comparison = NonNullable<MaintenanceResult["comparison"]>;
type Quantity = Schemas["Quantity"];

/** A figure in its unit, by the quantity the server names (costs in the engineer's currency). */
function figure(quantity: Quantity, x: number, currency: string, signed = false): string {
  const sign = signed && x > 0 ? "+" : signed && x < 0 ? "−" : "";
  const a = signed ? Math.abs(x) : x;
  switch (quantity) {
    case "money":
      return sign + money(a, currency);
    case "share":
      return signed ? `${sign}${(a * 100).toFixed(1)} pp` : percent(a);
    case "count":
      return `${sign}${Number.isInteger(a) || a >= 100 ? count(a) : a.toFixed(1)}`;
    default:
      return `${sign}${a.toFixed(1)}`;
  }
}

function halfWidth(quantity: Quantity, h: number | null | undefined, currency: string): string {
  if (h == null || !Number.isFinite(h) || h === 0) return "";
  return ` ± ${quantity === "share" ? `${(h * 100).toFixed(1)} pp` : figure(quantity, h, currency)}`;
}

export function Policies(props: { comparison: Comparison; currency: string }) {
  const c = props.comparison;
  const keys = c.policies[0]?.estimates.map((e) => [e.key, e.label] as const) ?? [];
  const cost = (name: string) => c.policies.find((p) => p.name === name)?.estimates.find((e) => e.key === "cost");
  const planned = cost("optimized plan")?.difference;
  return (
    <>
      {planned ? (
        <p class={planned.significant ? "decision significant" : "decision"} data-testid="policy-decision">
          The optimized plan against running to failure: cost {figure("money", planned.mean, props.currency, true)}
          {halfWidth("money", planned.ci95, props.currency)},{" "}
          {planned.significant ? (planned.mean < 0 ? "significantly cheaper" : "significantly dearer") : "no significant difference: the 95 % interval includes 0"}.
        </p>
      ) : null}
      <table data-testid="policies">
        <caption>
          {c.replications} simulated runs per policy over the horizon, the same random numbers for each (seed {c.seed})
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
                    {figure(e.quantity, e.mean, props.currency)}
                    {halfWidth(e.quantity, e.ci95, props.currency)}
                    {d ? (
                      <div class={d.significant ? "significant" : "quiet"}>
                        {figure(e.quantity, d.mean, props.currency, true)}
                        {halfWidth(e.quantity, d.ci95, props.currency)} vs run to failure
                      </div>
                    ) : null}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

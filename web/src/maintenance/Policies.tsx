// The plan against running to failure and a fixed interval, simulated with the same random
// numbers: each figure's mean with its 95 % half-width, and each policy's paired difference to
// running to failure (bold where significant).
import { count, percent } from "../format";
import { money, type MaintenanceResult } from "./plan";

type Comparison = NonNullable<MaintenanceResult["comparison"]>;

function figure(key: string, x: number, currency: string, signed = false): string {
  const sign = signed && x > 0 ? "+" : signed && x < 0 ? "−" : "";
  const a = signed ? Math.abs(x) : x;
  switch (key) {
    case "cost":
      return sign + money(a, currency);
    case "availability":
    case "oee":
      return signed ? `${sign}${(a * 100).toFixed(1)} pp` : percent(a);
    case "good":
      return `${sign}${count(a)} parts`;
    default:
      return `${sign}${a.toFixed(1)}`;
  }
}

function halfWidth(key: string, h: number | null | undefined, currency: string): string {
  if (h == null || !Number.isFinite(h)) return "";
  return ` ± ${key === "availability" || key === "oee" ? `${(h * 100).toFixed(1)} pp` : figure(key, h, currency)}`;
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
          The optimized plan against running to failure: cost {figure("cost", planned.mean, props.currency, true)}
          {halfWidth("cost", planned.ci95, props.currency)},{" "}
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
                    {figure(key, e.mean, props.currency)}
                    {halfWidth(key, e.ci95, props.currency)}
                    {d ? (
                      <div class={d.significant ? "significant" : "quiet"}>
                        {figure(key, d.mean, props.currency, true)}
                        {halfWidth(key, d.ci95, props.currency)} vs run to failure
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

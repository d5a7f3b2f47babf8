// A plant drawn from its scenario: stations in line order left to right (one column per stage),
// each with its machines; arrows for the flows, labelled with the buffer between (and its
// capacity).
import { useMemo } from "preact/hooks";
import type { PlantLayout } from "../api";
import { Chart, type ChartOption } from "../chart";
import { count } from "../format";

export function PlantGraph(props: { layout: PlantLayout }) {
  const { layout } = props;
  const rows = Math.max(1, ...layout.stations.map((s) => layout.stations.filter((t) => t.stage === s.stage).length));
  const option = useMemo<ChartOption>(() => {
    const seen = new Map<number, number>();
    const nodes = layout.stations.map((s) => {
      const k = seen.get(s.stage) ?? 0;
      seen.set(s.stage, k + 1);
      const machines = s.machines.length === 1 ? "1 machine" : `${s.machines.length} machines`;
      return {
        name: s.name,
        x: s.stage * 240,
        y: k * 110,
        symbol: "roundRect",
        symbolSize: [112, 46],
        itemStyle: { color: "#fff", borderColor: "#0072B2", borderWidth: 2 },
        label: {
          show: true,
          formatter: `{b|${s.name}}\n{m|${machines}}`,
          rich: { b: { fontWeight: "bold", fontSize: 12, lineHeight: 17 }, m: { fontSize: 11, lineHeight: 15 } },
          color: "#111",
        },
        tooltip: { formatter: `${s.name}: ${s.machines.join(", ")}<br/>products: ${s.products.join(", ")}<br/>failure modes: ${s.failure_modes.join(", ") || "none"}` },
      };
    });
    const byName = new Map(layout.stations.map((s) => [s.name, s]));
    const links = layout.flows.map((f) => {
      const b = byName.get(f.to)?.input_buffer;
      const text = b && !b.implicit ? `${b.name} (${b.capacity == null ? "unlimited" : count(b.capacity)})` : "";
      return {
        source: f.from,
        target: f.to,
        label: { show: text !== "", formatter: text, fontSize: 11, color: "#333" },
        tooltip: { formatter: `${f.from} → ${f.to}: ${f.products.join(", ")}` },
      };
    });
    return {
      tooltip: { trigger: "item" },
      series: [
        {
          type: "graph",
          layout: "none",
          roam: true,
          data: nodes,
          links,
          edgeSymbol: ["none", "arrow"],
          edgeSymbolSize: 10,
          lineStyle: { color: "#333", width: 1.5, curveness: 0.1 },
          edgeLabel: { show: true },
          emphasis: { focus: "adjacency" },
        },
      ],
    };
  }, [layout]);
  return <Chart option={option} height={Math.min(160 + 110 * rows, 700)} label={`the plant ${layout.plant}: ${layout.stations.length} stations`} testId="plant-graph" />;
}

// A chart in a Preact component that follows its container's size; ECharts (see echarts.ts) is
// loaded after the first paint. Each chart carries a label for screen readers.
import { useEffect, useRef, useState } from "preact/hooks";
import type { EChartsCoreOption, ECharts } from "echarts/core";
import { tvMode } from "./tv";

/** ECharts and its parts, loaded once, after the page's first paint (a chunk of its own). */
let loading: Promise<typeof import("./echarts")> | null = null;
function loadCharts() {
  loading ??= import("./echarts");
  return loading;
}

export type ChartOption = EChartsCoreOption;

/** How much larger a chart's text and margins, and its height, are on a shop-floor TV
 * (`#/board?tv`): the text as the page's, the height less, so that the board fits a screen. */
function tvScale(): { text: number; height: number } {
  return tvMode() ? { text: 1.6, height: 1.2 } : { text: 1, height: 1 };
}

type Axis = { axisLabel?: { fontSize?: number; width?: number } };
type Grid = { left?: number; right?: number; top?: number; bottom?: number };

/** `option` with its text, axis labels and grid margins `scale` times larger. */
function scaled(option: ChartOption, scale: number): ChartOption {
  if (scale === 1) return option;
  const axes = (a: unknown) =>
    a === undefined
      ? undefined
      : (Array.isArray(a) ? (a as Axis[]) : [a as Axis]).map((x) => ({
          ...x,
          axisLabel: {
            ...x.axisLabel,
            fontSize: (x.axisLabel?.fontSize ?? 12) * scale,
            ...(x.axisLabel?.width ? { width: x.axisLabel.width * scale } : {}),
          },
        }));
  const grid = option.grid as Grid | undefined;
  return {
    ...option,
    textStyle: { fontSize: 12 * scale },
    xAxis: axes(option.xAxis),
    yAxis: axes(option.yAxis),
    grid: grid
      ? Object.fromEntries(Object.entries(grid).map(([k, v]) => [k, typeof v === "number" ? v * scale : v]))
      : undefined,
  };
}

export function Chart(props: { option: ChartOption; height: number; label: string; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<ECharts | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let instance: ECharts | null = null;
    let observer: ResizeObserver | null = null;
    let gone = false;
    void loadCharts().then(({ echarts }) => {
      if (gone || !box.current) return;
      const made = echarts.init(box.current, null, { renderer: "canvas" });
      instance = made;
      chart.current = made;
      observer = new ResizeObserver(() => made.resize());
      observer.observe(box.current);
      setReady(true);
    });
    return () => {
      gone = true;
      observer?.disconnect();
      instance?.dispose();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setOption({ aria: { enabled: true }, animation: false, ...scaled(props.option, tvScale().text) }, { notMerge: true });
  }, [props.option, ready]);
  return (
    <div
      ref={box}
      role="img"
      aria-label={props.label}
      data-testid={props.testId}
      style={{ width: "100%", height: `${props.height * tvScale().height}px` }}
    />
  );
}

// A chart in a Preact component that follows its container's size; ECharts (see echarts.ts) is
// loaded after the first paint. Each chart carries a label for screen readers.
import { useEffect, useRef, useState } from "preact/hooks";
import type { EChartsCoreOption, ECharts } from "echarts/core";

/** ECharts and its parts, loaded once, after the page's first paint (a chunk of its own). */
let loading: Promise<typeof import("./echarts")> | null = null;
function loadCharts() {
  loading ??= import("./echarts");
  return loading;
}

export type ChartOption = EChartsCoreOption;

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
    chart.current?.setOption({ aria: { enabled: true }, animation: false, ...props.option }, { notMerge: true });
  }, [props.option, ready]);
  return (
    <div
      ref={box}
      role="img"
      aria-label={props.label}
      data-testid={props.testId}
      style={{ width: "100%", height: `${props.height}px` }}
    />
  );
}

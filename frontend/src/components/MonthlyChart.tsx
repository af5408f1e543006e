import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: number[];
  stroke: string;
}

/** Monthly counts as bars-like step lines (uPlot draws on a canvas; the page has the same numbers
 * in a table for screen readers). */
export function MonthlyChart({ months, series, label }: { months: string[]; series: Series[]; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || months.length === 0) return;
    const xs = months.map((m) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1) / 1000);
    const width = Math.min(el.current.clientWidth || 800, 960);
    const plot = new uPlot(
      {
        width,
        height: 280,
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{ values: (_u, ticks) => ticks.map((t) => new Date(t * 1000).toISOString().slice(0, 7)) }, {}],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            points: { show: true, size: 7 },
            paths: uPlot.paths.stepped?.({ align: 1 }),
          })),
        ],
      },
      [xs, ...series.map((s) => s.values)],
      el.current,
    );
    return () => plot.destroy();
  }, [months, series]);
  return <div ref={el} className="chart" role="img" aria-label={label} />;
}

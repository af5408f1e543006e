import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: number[];
  stroke: string;
}

/** Monthly counts, one column per month (uPlot draws on a canvas; the page has the same numbers in
 * a table for screen readers). Months are categories, not a time scale, so a single month is one
 * centred column rather than a point at the edge of an empty year. */
export function MonthlyChart({ months, series, label }: { months: string[]; series: Series[]; label: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current || months.length === 0) return;
    const xs = months.map((_, i) => i);
    const n = series.length;
    const width = Math.min(el.current.clientWidth || 800, 1000);
    const slot = 0.8 / n; // each series takes a share of the month's column
    // At least four columns' room, so one or two months do not become walls of colour.
    const pad = Math.max(0.5, (4 - months.length) / 2 + 0.5);
    const span = months.length - 1 + 2 * pad;
    const plot = new uPlot(
      {
        width,
        height: 280,
        scales: {
          x: { time: false, range: () => [-pad, months.length - 1 + pad] },
          y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] },
        },
        axes: [
          {
            splits: () => xs,
            values: (_u, ticks) => ticks.map((t) => months[t] ?? ""),
            grid: { show: false },
          },
          { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? String(t) : "")) },
        ],
        legend: { show: true, live: false },
        cursor: { show: false },
        series: [
          { label: "Month", value: (_u, v) => (v === null ? "" : months[v] ?? "") },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: s.stroke,
            fill: s.stroke,
            width: 0,
            points: { show: false },
            // Grouped columns: series i takes the i-th share of each month's column (x0 in scale
            // units, width as a share of the plot width).
            paths: uPlot.paths.bars?.({
              disp: {
                x0: { unit: 1, values: () => xs.map((x) => x - 0.4 + slot * i) },
                size: { unit: 2, values: () => xs.map(() => slot / span) },
              },
            }),
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

import { useMemo, useState } from "react";
import type { Histogram } from "../api/contract";
import { MonthlyChart } from "./MonthlyChart";
import { ProblemMessage } from "./ProblemMessage";
import { useSession } from "../session";

const fmtDay = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short" });
const fmtHour = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit" });

/** Counts over time of the search just run (POST /api/v1/searches/{type}/histogram with the same
 * body). Asked for on demand: it is audited like the search, and with an authority it is a use. */
export function HistogramPanel({ type, body }: { type: string; body: object }) {
  const s = useSession();
  const [interval, setInterval] = useState<"day" | "hour">("day");
  const [h, setH] = useState<Histogram | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  async function load() {
    setBusy(true);
    setError(null);
    try {
      const { cursor: _c, limit: _l, ...rest } = body as { cursor?: string; limit?: number };
      void _c;
      void _l;
      setH(await s.client.send<Histogram>("POST", `/api/v1/searches/${type.replace("_", "-")}/histogram`, { ...rest, interval }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  // At most about twelve axis labels, so day or hour buckets of a month stay readable.
  const labels = useMemo(() => {
    const bs = h?.buckets ?? [];
    const step = Math.max(1, Math.ceil(bs.length / 12));
    return bs.map((b, i) => (i % step === 0 ? (h?.interval === "hour" ? fmtHour : fmtDay).format(new Date(b.start)) : ""));
  }, [h]);
  const series = useMemo(() => [{ label: "Reads", values: (h?.buckets ?? []).map((b) => b.count), stroke: "#1d70b8" }], [h]);
  return (
    <section aria-labelledby={`hist-h-${type}`} className="histogram">
      <h3 id={`hist-h-${type}`}>Counts over time</h3>
      <div className="row-form">
        <label htmlFor={`hist-int-${type}`}>Bucket</label>
        <select id={`hist-int-${type}`} value={interval} onChange={(e) => setInterval(e.target.value as "day" | "hour")}>
          <option value="day">day</option>
          <option value="hour">hour</option>
        </select>
        <button type="button" className="secondary" onClick={() => void load()} disabled={busy}>
          {busy ? "Counting…" : "Show counts over time"}
        </button>
        <span className="hint">Audited like the search; with an authority it counts as one use.</span>
      </div>
      <ProblemMessage error={error} />
      {h && (
        <>
          <p className="meta" data-testid="histogram-total">
            {h.total} in {h.buckets.length} {h.interval} buckets (UTC).
          </p>
          <MonthlyChart months={labels} series={series} label={`Chart of ${h.total} counts per ${h.interval}`} />
        </>
      )}
    </section>
  );
}

import { useEffect, useMemo, useState } from "react";
import type { TransparencyReport } from "../api/types";
import { MonthlyChart, type Series } from "../components/MonthlyChart";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { showTime } from "../time";

/** The public report: counts only, computed from the verifiable audit log. No sign-in needed. */
export function TransparencyPage() {
  const s = useSession();
  const [report, setReport] = useState<TransparencyReport | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ac = new AbortController();
    s.client.get<TransparencyReport>("/api/v1/transparency", ac.signal).then(setReport, (e: unknown) => {
      if (!(e instanceof DOMException)) setError(e);
    });
    return () => ac.abort();
  }, [s.client]);

  const months = useMemo(() => [...(report?.months ?? [])].sort((a, b) => a.month.localeCompare(b.month)), [report]);
  const usage: Series[] = useMemo(
    () => [
      { label: "Searches", values: months.map((m) => m.searches), stroke: "#1f5fa8" },
      { label: "Refusals", values: months.map((m) => m.denials), stroke: "#c0392b" },
    ],
    [months],
  );
  const authorities: Series[] = useMemo(
    () => [
      { label: "Authorities requested", values: months.map((m) => m.authorities_requested), stroke: "#7d6608" },
      { label: "approved", values: months.map((m) => m.authorities_approved), stroke: "#1e8449" },
      { label: "rejected", values: months.map((m) => m.authorities_rejected), stroke: "#6c3483" },
    ],
    [months],
  );
  const labels = months.map((m) => m.month);
  return (
    <section aria-labelledby="tr-h">
      <h1 id="tr-h">Transparency report</h1>
      <p>
        How this force used its ANPR search portal, month by month. Counts only: no person, plate or case. Every number is computed from the audit
        log, whose signed checkpoints anyone can check with the <a href="/api/v1/audit/public-keys">published keys</a>.
      </p>
      <ProblemMessage error={error} />
      {report && (
        <>
          <p className="meta">
            {report.events} audit events
            {report.checkpoint ? `, under the checkpoint of ${report.checkpoint.size} events signed ${showTime(report.checkpoint.time)}` : ""}.
          </p>
          {months.length === 0 ? (
            <p role="status">No searches have been recorded yet.</p>
          ) : (
            <>
              <div className="card">
                <h2>Searches and refusals</h2>
                <MonthlyChart months={labels} series={usage} label="Chart of searches and refusals per month; the numbers are in the table below" />
              </div>
              <div className="card">
                <h2>Prior authorities</h2>
                <MonthlyChart months={labels} series={authorities} label="Chart of authorities requested, approved and rejected per month" />
              </div>
              <table className="results">
                <caption>Monthly counts</caption>
                <thead>
                  <tr>
                    <th scope="col">Month</th>
                    <th scope="col">Searches</th>
                    <th scope="col">By band and purpose</th>
                    <th scope="col">Refusals</th>
                    <th scope="col">Authorities requested / approved / rejected</th>
                  </tr>
                </thead>
                <tbody>
                  {months.map((m) => (
                    <tr key={m.month}>
                      <th scope="row">{m.month}</th>
                      <td>{m.searches}</td>
                      <td>
                        {(m.searches_by_band_and_purpose ?? []).map((b) => `${b.band ? `band ${b.band}` : "band not recorded"} · ${b.purpose}: ${b.count}`).join("; ")}
                      </td>
                      <td>{m.denials}</td>
                      <td>
                        {m.authorities_requested} / {m.authorities_approved} / {m.authorities_rejected}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </>
      )}
    </section>
  );
}

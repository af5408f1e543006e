// CONTRACT (retention branch): GET/POST /api/v1/retention/runs.
import { useCallback, useEffect, useState } from "react";
import type { RetentionRun } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { showTime } from "../time";
import { Pending, isMissingEndpoint } from "./Pending";

/** Retention runs: delete reads past retention, keeping held ones; each run is reported. */
export function RetentionPanel() {
  const s = useSession();
  const [runs, setRuns] = useState<RetentionRun[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    s.client.get<{ runs: RetentionRun[] | null }>("/api/v1/retention/runs").then(
      (r) => setRuns(r.runs ?? []),
      (e: unknown) => (isMissingEndpoint(e) ? setMissing(true) : setError(e)),
    );
  }, [s.client]);
  useEffect(load, [load]);
  async function run() {
    if (!window.confirm("Delete every read older than the retention period that no hold preserves?")) return;
    setBusy(true);
    setError(null);
    try {
      await s.client.send("POST", "/api/v1/retention/runs");
      load();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <section aria-labelledby="ret-h" className="card">
      <h2 id="ret-h">Retention runs</h2>
      {missing ? (
        <Pending what="Retention runs" />
      ) : (
        <>
          <button type="button" onClick={() => void run()} disabled={busy}>
            {busy ? "Running…" : "Run retention now"}
          </button>
          <ProblemMessage error={error} />
          {runs && (
            <table className="results">
              <caption>Past runs</caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Cut-off</th>
                  <th scope="col">Deleted</th>
                  <th scope="col">Kept under hold</th>
                  <th scope="col">Finished</th>
                </tr>
              </thead>
              <tbody>
                {runs.length === 0 && (
                  <tr>
                    <td colSpan={5} className="empty">
                      No runs yet.
                    </td>
                  </tr>
                )}
                {runs.map((r) => (
                  <tr key={r.id}>
                    <td>{showTime(r.started_at)}</td>
                    <td>{showTime(r.cutoff)}</td>
                    <td>{r.deleted}</td>
                    <td>{r.held_kept}</td>
                    <td>{showTime(r.finished_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

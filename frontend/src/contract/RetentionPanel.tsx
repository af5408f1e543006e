// GET/POST /api/v1/retention/runs (admin.retention).
import { useCallback, useEffect, useState } from "react";
import type { RetentionRun } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { showTime } from "../time";

/** Retention runs: delete reads past retention, keeping held ones; each run is reported. */
export function RetentionPanel({ names }: { names: Map<string, string> }) {
  const s = useSession();
  const [runs, setRuns] = useState<RetentionRun[] | null>(null);
  const [done, setDone] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    s.client.get<{ runs: RetentionRun[] | null }>("/api/v1/retention/runs").then(
      (r) => setRuns(r.runs ?? []),
      setError,
    );
  }, [s.client]);
  useEffect(load, [load]);
  async function run() {
    if (!window.confirm("Delete every read older than the retention period that no hold preserves?")) return;
    setBusy(true);
    setError(null);
    try {
      const r = await s.client.send<RetentionRun>("POST", "/api/v1/retention/runs");
      setDone(
        r.status === "ok"
          ? `Retention run finished: ${r.deleted} read${r.deleted === 1 ? "" : "s"} deleted, ${r.held_kept} kept under ${r.holds} hold${r.holds === 1 ? "" : "s"}.`
          : `Retention run failed: ${r.error ?? "see the run list"}.`,
      );
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
      <p className="hint">Deletes reads older than the retention period that no active hold keeps; scheduled runs appear here too.</p>
      {(
        <>
          <button type="button" onClick={() => void run()} disabled={busy}>
            {busy ? "Running…" : "Run retention now"}
          </button>
          {done && <p role="status">{done}</p>}
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
                  <th scope="col">Holds honoured</th>
                  <th scope="col">By</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {runs.length === 0 && (
                  <tr>
                    <td colSpan={7} className="empty">
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
                    <td>{r.holds}</td>
                    <td>
                      {names.get(r.by) ?? r.by} ({r.trigger})
                    </td>
                    <td>{r.status === "ok" ? "ok" : `error: ${r.error ?? ""}`}</td>
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

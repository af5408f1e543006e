// GET/POST /api/v1/holds, POST /api/v1/holds/:id/release (admin.holds).
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Hold } from "../api/contract";
import type { Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { useSession } from "../session";
import { showTime } from "../time";

const split = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);

function scopeText(h: Hold): string {
  const parts: string[] = [];
  if (h.scope.vrms?.length) parts.push(h.scope.vrms.join(", "));
  if (h.scope.cameras?.length) parts.push(`cameras ${h.scope.cameras.join(", ")}`);
  if (h.scope.from || h.scope.to) parts.push(`${h.scope.from ? showTime(h.scope.from) : "any time"} – ${h.scope.to ? showTime(h.scope.to) : "open"}`);
  return parts.join("; ") || "everything";
}

/** Preservation holds: data a case needs is kept past retention until released. */
export function HoldsPanel({ names }: { names: Map<string, string> }) {
  const s = useSession();
  const [holds, setHolds] = useState<Hold[] | null>(null);
  const [done, setDone] = useState("");
  const [releasing, setReleasing] = useState("");
  const [why, setWhy] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [cameras, setCameras] = useState("");
  const [vrms, setVrms] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [review, setReview] = useState("");
  const [reason, setReason] = useState<Reason>(emptyReason);
  const load = useCallback(() => {
    s.client.get<{ holds: Hold[] | null }>("/api/v1/holds").then(
      (r) => setHolds(r.holds ?? []),
      setError,
    );
  }, [s.client]);
  useEffect(load, [load]);
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const h = await s.client.send<Hold>("POST", "/api/v1/holds", {
        reason: { ...reason, offence_code: reason.offence_code || undefined },
        scope: { vrms: split(vrms), cameras: split(cameras), from: iso(from), to: iso(to) },
        review_at: iso(review),
      });
      setDone(`Hold placed for ${h.case_ref}.`);
      load();
    } catch (err) {
      setError(err);
    }
  }
  async function release(e: FormEvent, h: Hold) {
    e.preventDefault();
    setError(null);
    try {
      await s.client.send("POST", `/api/v1/holds/${encodeURIComponent(h.id)}/release`, { reason: why });
      setDone(`Hold for ${h.case_ref} released; its reads fall to the next retention run.`);
      setReleasing("");
      setWhy("");
      load();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section aria-labelledby="holds-h" className="card">
      <h2 id="holds-h">Preservation holds</h2>
      <p className="hint">Reads matching a hold are kept past retention until it is released.</p>
      {(
        <>
          <form onSubmit={submit} aria-label="Create a preservation hold" className="row-form">
            <div className="field">
              <label htmlFor="h-vrms">VRMs (comma separated)</label>
              <input id="h-vrms" value={vrms} onChange={(e) => setVrms(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="h-cams">Camera ids (comma separated)</label>
              <input id="h-cams" value={cameras} onChange={(e) => setCameras(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="h-from">From</label>
              <input id="h-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="h-to">To</label>
              <input id="h-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="h-review">Review by</label>
              <input id="h-review" type="datetime-local" value={review} onChange={(e) => setReview(e.target.value)} required />
            </div>
            <ReasonFields value={reason} onChange={setReason} idPrefix="hold" />
            <div className="actions">
              <button type="submit">Place hold</button>
            </div>
          </form>
          {done && <p role="status">{done}</p>}
          <ProblemMessage error={error} />
          {holds && (
            <table className="results">
              <caption>Holds</caption>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Placed</th>
                  <th scope="col">Review by</th>
                  <th scope="col">State</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {holds.length === 0 && (
                  <tr>
                    <td colSpan={6} className="empty">
                      No holds.
                    </td>
                  </tr>
                )}
                {holds.map((h) => (
                  <tr key={h.id}>
                    <td>
                      {h.case_ref}
                      <div className="just">{h.reason.justification}</div>
                    </td>
                    <td>{scopeText(h)}</td>
                    <td>
                      {showTime(h.created_at)}
                      <div className="just">by {names.get(h.created_by) ?? h.created_by}</div>
                    </td>
                    <td>{showTime(h.review_at)}</td>
                    <td>
                      {h.active ? (h.review_due ? "active, review overdue" : "active") : `released ${showTime(h.released_at)}`}
                      {h.release_reason ? <div className="just">{h.release_reason}</div> : null}
                    </td>
                    <td>
                      {h.active && releasing !== h.id && (
                        <button type="button" onClick={() => setReleasing(h.id)} aria-label={`Release hold ${h.case_ref}`}>
                          Release
                        </button>
                      )}
                      {h.active && releasing === h.id && (
                        <form onSubmit={(e) => void release(e, h)} aria-label={`Release hold ${h.case_ref}`}>
                          <label htmlFor={`rel-${h.id}`}>Why the data may now be deleted</label>
                          <input id={`rel-${h.id}`} value={why} onChange={(e) => setWhy(e.target.value)} minLength={20} required />
                          <button type="submit">Release hold</button>
                        </form>
                      )}
                    </td>
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

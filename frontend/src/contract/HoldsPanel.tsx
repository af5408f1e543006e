// CONTRACT (retention branch): GET/POST /api/v1/holds, POST /api/v1/holds/:id/release.
import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Hold } from "../api/contract";
import type { Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { useSession } from "../session";
import { showTime } from "../time";
import { Pending, isMissingEndpoint } from "./Pending";

const split = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);

/** Preservation holds: data a case needs is kept past retention until released. */
export function HoldsPanel() {
  const s = useSession();
  const [holds, setHolds] = useState<Hold[] | null>(null);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [caseRef, setCaseRef] = useState("");
  const [vrms, setVrms] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [review, setReview] = useState("");
  const [reason, setReason] = useState<Reason>(emptyReason);
  const load = useCallback(() => {
    s.client.get<{ holds: Hold[] | null }>("/api/v1/holds").then(
      (r) => setHolds(r.holds ?? []),
      (e: unknown) => (isMissingEndpoint(e) ? setMissing(true) : setError(e)),
    );
  }, [s.client]);
  useEffect(load, [load]);
  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      await s.client.send("POST", "/api/v1/holds", {
        case_ref: caseRef,
        reason: { ...reason, case_ref: reason.case_ref || caseRef },
        scope: { vrms: split(vrms), from: iso(from), to: iso(to) },
        review_at: iso(review),
      });
      load();
    } catch (err) {
      setError(err);
    }
  }
  async function release(h: Hold) {
    const why = window.prompt(`Why release the hold for ${h.case_ref}?`);
    if (!why) return;
    try {
      await s.client.send("POST", `/api/v1/holds/${encodeURIComponent(h.id)}/release`, { reason: why });
      load();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section aria-labelledby="holds-h" className="card">
      <h2 id="holds-h">Preservation holds</h2>
      {missing ? (
        <Pending what="Preservation holds" />
      ) : (
        <>
          <form onSubmit={submit} aria-label="Create a preservation hold" className="row-form">
            <div className="field">
              <label htmlFor="h-case">Case reference</label>
              <input id="h-case" value={caseRef} onChange={(e) => setCaseRef(e.target.value)} required />
            </div>
            <div className="field">
              <label htmlFor="h-vrms">VRMs (comma separated)</label>
              <input id="h-vrms" value={vrms} onChange={(e) => setVrms(e.target.value)} />
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
          <ProblemMessage error={error} />
          {holds && (
            <table className="results">
              <caption>Holds</caption>
              <thead>
                <tr>
                  <th scope="col">Case</th>
                  <th scope="col">Scope</th>
                  <th scope="col">Review by</th>
                  <th scope="col">State</th>
                  <th scope="col">Action</th>
                </tr>
              </thead>
              <tbody>
                {holds.length === 0 && (
                  <tr>
                    <td colSpan={5} className="empty">
                      No holds.
                    </td>
                  </tr>
                )}
                {holds.map((h) => (
                  <tr key={h.id}>
                    <td>{h.case_ref}</td>
                    <td>
                      {(h.scope.vrms ?? []).join(", ")} {h.scope.from ? `${showTime(h.scope.from)} – ${showTime(h.scope.to)}` : ""}
                    </td>
                    <td>{showTime(h.review_at)}</td>
                    <td>{h.released_at ? `released ${showTime(h.released_at)}` : h.state ?? "active"}</td>
                    <td>
                      {!h.released_at && (
                        <button type="button" onClick={() => void release(h)} aria-label={`Release hold ${h.case_ref}`}>
                          Release
                        </button>
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

// POST /api/v1/authorities/:id/approve {reason, scope?, expires_at?, max_uses?} and /reject {reason}.
// Scope fields sent replace the requested ones and may only narrow them (the server refuses a
// widening with rule:authority-narrow-only), so only the fields the approver changed are sent.
import { useState, type FormEvent } from "react";
import type { Authority, AuthorityDecision, AuthorityScopeRequest } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { fromLocalInput, toLocalInput } from "../time";

const split = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);
const local = (iso: string | undefined) => (iso ? toLocalInput(new Date(iso)) : "");

/** Approve (optionally narrowed: fewer VRMs, a shorter window or expiry, fewer uses) or reject, with a reason. */
export function DecisionForm({ a, onDone }: { a: Authority; onDone: (msg: string) => void }) {
  const s = useSession();
  const [reason, setReason] = useState("");
  const [vrms, setVrms] = useState((a.scope.vrms ?? []).join(", "));
  const [from, setFrom] = useState(local(a.scope.from));
  const [to, setTo] = useState(local(a.scope.to));
  const [expires, setExpires] = useState(local(a.requested_expires_at));
  const [maxUses, setMaxUses] = useState(a.max_uses);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  function approval(): AuthorityDecision {
    const body: AuthorityDecision = { reason };
    const scope: AuthorityScopeRequest = {};
    const narrowed = split(vrms);
    if (narrowed.join(",") !== (a.scope.vrms ?? []).join(",")) scope.vrms = narrowed;
    // datetime-local has minute precision: only a changed minute counts as a narrowing.
    if (from !== local(a.scope.from)) scope.from = fromLocalInput(from)?.toISOString();
    if (to !== local(a.scope.to)) scope.to = fromLocalInput(to)?.toISOString();
    if (Object.keys(scope).length > 0) body.scope = scope;
    if (expires !== local(a.requested_expires_at)) body.expires_at = fromLocalInput(expires)?.toISOString();
    if (maxUses !== a.max_uses) body.max_uses = maxUses;
    return body;
  }

  async function decide(kind: "approve" | "reject") {
    setBusy(true);
    setError(null);
    try {
      const body = kind === "approve" ? approval() : { reason };
      const after = await s.client.send<Authority>("POST", `/api/v1/authorities/${encodeURIComponent(a.id)}/${kind}`, body);
      onDone(
        kind === "approve"
          ? `Approved the request for ${a.reason.case_ref ?? a.id}: ${after.searchable}`
          : `Rejected the request for ${a.reason.case_ref ?? a.id}.`,
      );
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void decide("approve");
  };
  const id = a.id.slice(0, 8);
  return (
    <form onSubmit={submit} aria-label={`Decide request ${a.reason.case_ref}`} className="decision row-form">
      <div className="field wide">
        <label htmlFor={`d-reason-${id}`}>Decision reason</label>
        <input id={`d-reason-${id}`} value={reason} onChange={(e) => setReason(e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor={`d-vrms-${id}`}>VRMs (remove some to narrow)</label>
        <input id={`d-vrms-${id}`} value={vrms} onChange={(e) => setVrms(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`d-from-${id}`}>Window from (later to narrow)</label>
        <input id={`d-from-${id}`} type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`d-to-${id}`}>Window to (earlier to narrow)</label>
        <input id={`d-to-${id}`} type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`d-exp-${id}`}>Expires (sooner to narrow)</label>
        <input id={`d-exp-${id}`} type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor={`d-uses-${id}`}>Maximum uses</label>
        <input id={`d-uses-${id}`} type="number" min={1} max={a.max_uses} value={maxUses} onChange={(e) => setMaxUses(Number(e.target.value))} />
      </div>
      <div className="actions">
        <button type="submit" disabled={busy}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy || !reason} onClick={() => void decide("reject")}>
          Reject
        </button>
      </div>
      <ProblemMessage error={error} />
    </form>
  );
}

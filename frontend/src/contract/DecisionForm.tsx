// CONTRACT (authority branch): POST /api/v1/authorities/:id/approve {reason, scope?, expires_at?, max_uses?}
// and /reject {reason}.
import { useState, type FormEvent } from "react";
import type { Authority } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { toLocalInput } from "../time";

const split = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);

/** Approve (optionally narrowed: fewer VRMs, a shorter expiry, fewer uses) or reject, with a reason. */
export function DecisionForm({ a, onDone }: { a: Authority; onDone: (msg: string) => void }) {
  const s = useSession();
  const [reason, setReason] = useState("");
  const [vrms, setVrms] = useState((a.scope.vrms ?? []).join(", "));
  const [expires, setExpires] = useState(a.requested_expires_at ? toLocalInput(new Date(a.requested_expires_at)) : "");
  const [maxUses, setMaxUses] = useState(a.max_uses);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function decide(kind: "approve" | "reject") {
    setBusy(true);
    setError(null);
    try {
      let body: Record<string, unknown> = { reason };
      if (kind === "approve") {
        const narrowed = split(vrms);
        const same = narrowed.join(",") === (a.scope.vrms ?? []).join(",");
        if (!same) body = { ...body, scope: { ...a.scope, vrms: narrowed } };
        if (expires && new Date(expires).toISOString() !== a.requested_expires_at) body.expires_at = new Date(expires).toISOString();
        if (maxUses !== a.max_uses) body.max_uses = maxUses;
      }
      await s.client.send("POST", `/api/v1/authorities/${encodeURIComponent(a.id)}/${kind}`, body);
      onDone(`${kind === "approve" ? "Approved" : "Rejected"} the request for ${a.reason.case_ref}.`);
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
        <label htmlFor={`d-exp-${id}`}>Expires (shorter to narrow)</label>
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

// Data rights for the ANPR manager (oversight purposes only): POST /api/v1/subject-access (CSV of
// every read held of a plate, sent only after its digest is audited), POST /api/v1/reads/:id/correct
// and /erase. The subject access report lists read ids, which is how a correction finds its read.
import { useState, type FormEvent } from "react";
import type { Read, Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields } from "../components/ReasonFields";
import { useSession } from "../session";
import { daysAgo, fromLocalInput, toLocalInput } from "../time";

const oversight: Reason = { purpose: "data_protection", case_ref: "", justification: "" };

function save(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Subject access report, and correcting or erasing one read, each with an oversight reason. */
export function DataRightsPanel() {
  const s = useSession();
  const [now] = useState(() => new Date());
  const [reason, setReason] = useState<Reason>(oversight);
  const [vrm, setVrm] = useState("");
  const [from, setFrom] = useState(toLocalInput(daysAgo(365, now)));
  const [to, setTo] = useState(toLocalInput(now));
  const [readId, setReadId] = useState("");
  const [newVrm, setNewVrm] = useState("");
  const [done, setDone] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const body = () => ({ reason: { ...reason, offence_code: undefined } });

  async function run(what: () => Promise<string>) {
    setBusy(true);
    setError(null);
    setDone("");
    try {
      setDone(await what());
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const sar = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await s.client.download("/api/v1/subject-access", {
        ...body(),
        vrm: vrm.trim(),
        from: fromLocalInput(from)?.toISOString(),
        to: fromLocalInput(to)?.toISOString(),
      });
      save(r.blob, r.filename);
      return `Subject access report for ${vrm.trim()} downloaded; SHA-256 ${r.digest ?? "?"} recorded in the audit log.`;
    });
  };
  const correct = () =>
    void run(async () => {
      const r = await s.client.send<{ before_id: string; read: Read }>("POST", `/api/v1/reads/${encodeURIComponent(readId.trim())}/correct`, {
        ...body(),
        vrm: newVrm.trim(),
      });
      return `Read ${r.before_id} corrected to ${r.read.vrm}; the corrected read is ${r.read.id}.`;
    });
  const erase = () => {
    if (!window.confirm(`Erase read ${readId.trim()}? The audit log keeps that it happened, not the read.`)) return;
    void run(async () => {
      const r = await s.client.send<{ id: string }>("POST", `/api/v1/reads/${encodeURIComponent(readId.trim())}/erase`, body());
      return `Read ${r.id} erased.`;
    });
  };
  return (
    <section aria-labelledby="dr-h" className="card">
      <h2 id="dr-h">Data rights</h2>
      <ReasonFields value={reason} onChange={setReason} idPrefix="dr" oversight />
      <form onSubmit={sar} aria-label="Subject access report" className="row-form">
        <div className="field">
          <label htmlFor="dr-vrm">Plate (VRM)</label>
          <input id="dr-vrm" value={vrm} onChange={(e) => setVrm(e.target.value.toUpperCase())} required className="vrm-input" />
        </div>
        <div className="field">
          <label htmlFor="dr-from">From</label>
          <input id="dr-from" type="datetime-local" value={from} onChange={(e) => setFrom(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="dr-to">To</label>
          <input id="dr-to" type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} required />
        </div>
        <button type="submit" disabled={busy}>
          Download subject access report
        </button>
      </form>
      <form onSubmit={(e) => e.preventDefault()} aria-label="Correct or erase a read" className="row-form">
        <div className="field">
          <label htmlFor="dr-id">Read id (from the report)</label>
          <input id="dr-id" value={readId} onChange={(e) => setReadId(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="dr-new">True plate (to correct)</label>
          <input id="dr-new" value={newVrm} onChange={(e) => setNewVrm(e.target.value.toUpperCase())} className="vrm-input" />
        </div>
        <button type="button" disabled={busy || !readId || !newVrm} onClick={correct}>
          Correct read
        </button>
        <button type="button" className="danger" disabled={busy || !readId} onClick={erase}>
          Erase read
        </button>
      </form>
      {done && <p role="status">{done}</p>}
      <ProblemMessage error={error} />
    </section>
  );
}

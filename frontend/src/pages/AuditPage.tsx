import { useState, type FormEvent } from "react";
import { qs } from "../api/client";
import type { Anomaly, AuditPage as Page, AuditRecord, Reason } from "../api/types";
import { AnomalyList } from "../components/AnomalyList";
import { AuditTable } from "../components/AuditTable";
import { CheckpointPanel } from "../components/CheckpointPanel";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields } from "../components/ReasonFields";
import { useSession } from "../session";

// Actions the audit log records (internal/audit), offered as suggestions for the action filter.
const knownActions = [
  "search", "search.page", "record.view", "image.view", "export",
  "authority.request", "authority.approve", "authority.reject", "authority.revoke", "authority.expire", "authority.exhaust",
  "hold.create", "hold.release", "retention.run", "read.correct", "read.erase", "sar.report",
  "audit.read", "audit.export", "audit.erase", "login", "logout", "grant.change", "apikey.create", "apikey.revoke", "session.revoke",
];

type View = "events" | "timeline" | "anomalies" | "sample";

interface Filters {
  actor: string;
  action: string;
  decision: "" | "allow" | "deny";
  vrm: string;
  authority: string;
  since: string;
  until: string;
}

const noFilters: Filters = { actor: "", action: "", decision: "", vrm: "", authority: "", since: "", until: "" };

/** The auditor's explorer. Reading the audit log is itself audited, so it asks for a reason first. */
export function AuditPage() {
  const s = useSession();
  const [reason, setReason] = useState<Reason>({ purpose: "audit_review", case_ref: "", justification: "" });
  const [f, setF] = useState<Filters>(noFilters);
  const [view, setView] = useState<View>("events");
  const [subject, setSubject] = useState("");
  const [subjectName, setSubjectName] = useState("");
  const [loads, setLoads] = useState(0);
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [anomalies, setAnomalies] = useState<Anomaly[] | null>(null);
  const [next, setNext] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const iso = (v: string) => (v ? new Date(v).toISOString() : undefined);
  // Reading the audit log needs a reason, which travels as a short-lived token (minted from a POST
  // body), never in the URL.
  const base = async () => ({ reason_token: await s.client.reasonToken(reason) });
  const filters = () => ({ actor: f.actor, action: f.action, decision: f.decision, vrm: f.vrm, authority_id: f.authority, since: iso(f.since), until: iso(f.until) });
  const filterQuery = async () => ({ ...(await base()), ...filters() });

  async function load(v: View, cursor = "", who = subject) {
    setBusy(true);
    setError(null);
    setView(v);
    try {
      if (v === "events") {
        const p = await s.client.get<Page>(`/api/v1/audit/events${qs({ ...(await filterQuery()), order: "newest", limit: 50, cursor })}`);
        setRecords(cursor ? [...(records ?? []), ...(p.records ?? [])] : p.records ?? []);
        setNext(p.next ?? "");
      } else if (v === "timeline") {
        const p = await s.client.get<Page>(`/api/v1/audit/users/${encodeURIComponent(who)}/timeline${qs({ ...(await base()), limit: 100, cursor })}`);
        setRecords(cursor ? [...(records ?? []), ...(p.records ?? [])] : p.records ?? []);
        setNext(p.next ?? "");
      } else if (v === "sample") {
        const p = await s.client.get<{ seed: number; records: AuditRecord[] | null }>(`/api/v1/audit/sample${qs({ ...(await base()), actor: f.actor, action: f.action, n: 20 })}`);
        setRecords(p.records ?? []);
        setNext("");
      } else {
        const p = await s.client.get<{ anomalies: Anomaly[] | null }>(`/api/v1/audit/anomalies${qs({ ...(await base()), actor: f.actor, since: iso(f.since), until: iso(f.until) })}`);
        setAnomalies(p.anomalies ?? []);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setLoads((n) => n + 1);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    void load(view === "timeline" && !subject ? "events" : view);
  }

  const set = (k: keyof Filters) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  // The export is fetched (the reason token is minted first) and saved from memory: a plain link
  // would need the reason in its URL.
  async function exportCSV() {
    setBusy(true);
    setError(null);
    try {
      const r = await s.client.download(`/api/v1/audit/export${qs({ ...(await filterQuery()), format: "csv" })}`);
      const url = URL.createObjectURL(r.blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = r.filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  const tabs: { v: View; label: string }[] = [
    { v: "events", label: "Events" },
    { v: "timeline", label: "User timeline" },
    { v: "anomalies", label: "Anomalies" },
    { v: "sample", label: "Random sample" },
  ];

  return (
    <section aria-labelledby="audit-h">
      <h1 id="audit-h">Audit log</h1>
      <CheckpointPanel refresh={loads} />
      <form onSubmit={submit} aria-label="Audit query" className="card">
        <ReasonFields value={reason} onChange={setReason} idPrefix="audit" oversight />
        <fieldset>
          <legend>Filters</legend>
          <div className="field">
            <label htmlFor="f-actor">Actor (subject)</label>
            <input id="f-actor" value={f.actor} onChange={set("actor")} />
          </div>
          <div className="field">
            <label htmlFor="f-action">Action</label>
            <input id="f-action" value={f.action} onChange={set("action")} placeholder="authority.approve" list="f-actions" />
            <datalist id="f-actions">
              {knownActions.map((a) => (
                <option key={a} value={a} />
              ))}
            </datalist>
          </div>
          <div className="field">
            <label htmlFor="f-decision">Decision</label>
            <select id="f-decision" value={f.decision} onChange={set("decision")}>
              <option value="">any</option>
              <option value="allow">allow</option>
              <option value="deny">deny</option>
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-vrm">VRM</label>
            <input id="f-vrm" value={f.vrm} onChange={set("vrm")} />
          </div>
          <div className="field">
            <label htmlFor="f-authority">Authority id</label>
            <input id="f-authority" value={f.authority} onChange={set("authority")} />
          </div>
          <div className="field">
            <label htmlFor="f-since">Since</label>
            <input id="f-since" type="datetime-local" value={f.since} onChange={set("since")} />
          </div>
          <div className="field">
            <label htmlFor="f-until">Until</label>
            <input id="f-until" type="datetime-local" value={f.until} onChange={set("until")} />
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Search the audit log
          </button>
          <button type="button" className="secondary" onClick={() => void exportCSV()} disabled={busy}>
            Export CSV (audited)
          </button>
        </div>
      </form>
      <div
        role="tablist"
        aria-label="Audit views"
        className="tabs"
        onKeyDown={(e) => {
          // Arrow keys move between tabs, as the ARIA tabs pattern expects.
          if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
          const all = [...e.currentTarget.querySelectorAll<HTMLButtonElement>('[role="tab"]:not(:disabled)')];
          const i = all.indexOf(document.activeElement as HTMLButtonElement);
          all[(i + (e.key === "ArrowRight" ? 1 : all.length - 1)) % all.length]?.focus();
        }}
      >
        {tabs.map((t) => (
          <button
            key={t.v}
            role="tab"
            type="button"
            aria-selected={view === t.v}
            tabIndex={view === t.v ? 0 : -1}
            disabled={busy || (t.v === "timeline" && !subject)}
            onClick={() => void load(t.v)}
          >
            {t.label}
            {t.v === "timeline" && subject ? `: ${subjectName || subject}` : ""}
          </button>
        ))}
      </div>
      <ProblemMessage error={error} />
      <div role="tabpanel" aria-label={tabs.find((t) => t.v === view)?.label} className="card">
        {view === "anomalies"
          ? anomalies && <AnomalyList anomalies={anomalies} />
          : records && (
              <AuditTable
                records={records}
                caption={view === "timeline" ? `Timeline of ${subjectName || subject}` : view === "sample" ? "Random sample for dip-checking" : "Audit events, newest first"}
                onActor={(who, name) => {
                  setSubject(who);
                  setSubjectName(name);
                  void load("timeline", "", who);
                }}
              />
            )}
        {next && (view === "events" || view === "timeline") && (
          <button type="button" onClick={() => void load(view, next)} disabled={busy}>
            More
          </button>
        )}
      </div>
    </section>
  );
}

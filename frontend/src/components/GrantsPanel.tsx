import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { Grant, User } from "../api/types";
import { useSession } from "../session";
import { showTime } from "../time";
import { ProblemMessage } from "./ProblemMessage";

const roles = ["investigator", "extended_investigator", "authorising_officer", "auditor"];
const ranks = ["", "constable", "sergeant", "inspector", "chief_inspector", "superintendent", "chief_superintendent"];

/** Role grants by the ANPR manager: effective at once, audited; the server refuses self-grants. */
export function GrantsPanel({ users }: { users: User[] }) {
  const s = useSession();
  const [grants, setGrants] = useState<Grant[]>([]);
  const [form, setForm] = useState({ subject: "", role: "extended_investigator", rank: "", reason: "", expires: "" });
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const load = useCallback(() => {
    s.client.get<{ grants: Grant[] | null }>("/api/v1/admin/grants").then((r) => setGrants(r.grants ?? []), setError);
  }, [s.client]);
  useEffect(load, [load]);
  const name = (sub: string) => users.find((u) => u.subject === sub)?.name ?? sub;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    setDone("");
    try {
      const g = await s.client.send<Grant>("POST", "/api/v1/admin/grants", {
        subject: form.subject,
        role: form.role,
        rank: form.rank || undefined,
        reason: form.reason,
        expires_at: form.expires ? new Date(form.expires).toISOString() : undefined,
      });
      setDone(`Granted ${g.role} to ${name(g.subject)}.`);
      setForm({ subject: "", role: "extended_investigator", rank: "", reason: "", expires: "" });
      load();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(g: Grant) {
    setError(null);
    try {
      await s.client.send("DELETE", `/api/v1/admin/grants/${encodeURIComponent(g.id)}`);
      setDone(`Revoked ${g.role} from ${name(g.subject)}.`);
      load();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section aria-labelledby="grants-h" className="card">
      <h2 id="grants-h">Grants</h2>
      <form onSubmit={submit} aria-label="Grant a role" className="row-form">
        <div className="field">
          <label htmlFor="g-subject">User</label>
          <select id="g-subject" value={form.subject} onChange={(e) => setForm({ ...form, subject: e.target.value })} required>
            <option value="">Choose…</option>
            {users.map((u) => (
              <option key={u.subject} value={u.subject}>
                {u.name} {u.email ? `(${u.email})` : ""}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="g-role">Role</label>
          <select id="g-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="g-rank">Rank (authorising officers)</label>
          <select id="g-rank" value={form.rank} onChange={(e) => setForm({ ...form, rank: e.target.value })}>
            {ranks.map((r) => (
              <option key={r} value={r}>
                {r || "none"}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="g-expires">Expires (optional)</label>
          <input id="g-expires" type="datetime-local" value={form.expires} onChange={(e) => setForm({ ...form, expires: e.target.value })} />
        </div>
        <div className="field wide">
          <label htmlFor="g-reason">Reason</label>
          <input id="g-reason" value={form.reason} onChange={(e) => setForm({ ...form, reason: e.target.value })} required />
        </div>
        <div className="actions">
          <button type="submit">Grant</button>
        </div>
      </form>
      {done && <p role="status">{done}</p>}
      <ProblemMessage error={error} />
      <table className="results">
        <caption>Role grants</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">Rank</th>
            <th scope="col">Reason</th>
            <th scope="col">Granted</th>
            <th scope="col">State</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {grants.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No grants yet: roles come from the identity provider alone.
              </td>
            </tr>
          )}
          {grants.map((g) => (
            <tr key={g.id}>
              <td>{name(g.subject)}</td>
              <td>{g.role}</td>
              <td>{g.rank ?? ""}</td>
              <td>{g.reason}</td>
              <td>
                {showTime(g.granted_at)} by {name(g.granted_by)}
              </td>
              <td>{g.revoked_at ? `revoked ${showTime(g.revoked_at)}` : g.expires_at ? `until ${showTime(g.expires_at)}` : "active"}</td>
              <td>
                {!g.revoked_at && (
                  <button type="button" onClick={() => void revoke(g)} aria-label={`Revoke ${g.role} from ${name(g.subject)}`}>
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

import { useCallback, useEffect, useState, type FormEvent } from "react";
import type { APIKey } from "../api/types";
import { useSession } from "../session";
import { showTime } from "../time";
import { ProblemMessage } from "./ProblemMessage";

/** API keys for machine clients: the secret is shown once, here, and never again. */
export function APIKeysPanel() {
  const s = useSession();
  const [keys, setKeys] = useState<APIKey[]>([]);
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("");
  const [secret, setSecret] = useState("");
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    s.client.get<{ api_keys: APIKey[] | null }>("/api/v1/admin/api-keys").then((r) => setKeys(r.api_keys ?? []), setError);
  }, [s.client]);
  useEffect(load, [load]);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    try {
      const r = await s.client.send<{ api_key: string }>("POST", "/api/v1/admin/api-keys", {
        name,
        scopes: ["reads:ingest"],
        expires_at: expires ? new Date(expires).toISOString() : undefined,
      });
      setSecret(r.api_key);
      setName("");
      load();
    } catch (err) {
      setError(err);
    }
  }
  async function revoke(k: APIKey) {
    setError(null);
    try {
      await s.client.send("DELETE", `/api/v1/admin/api-keys/${encodeURIComponent(k.id)}`);
      load();
    } catch (err) {
      setError(err);
    }
  }
  return (
    <section aria-labelledby="keys-h" className="card">
      <h2 id="keys-h">API keys</h2>
      <form onSubmit={submit} aria-label="Create an API key" className="row-form">
        <div className="field">
          <label htmlFor="k-name">Name</label>
          <input id="k-name" value={name} onChange={(e) => setName(e.target.value)} required placeholder="camera back-office, north" />
        </div>
        <div className="field">
          <label htmlFor="k-exp">Expires (optional)</label>
          <input id="k-exp" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} />
        </div>
        <p className="hint">Scope: reads:ingest (upload reads).</p>
        <div className="actions">
          <button type="submit">Create key</button>
        </div>
      </form>
      {secret && (
        <p role="status" className="secret">
          New key (copy it now; it is not stored and will not be shown again): <code>{secret}</code>
        </p>
      )}
      <ProblemMessage error={error} />
      <table className="results">
        <caption>API keys</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Name</th>
            <th scope="col">Scopes</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {keys.length === 0 && (
            <tr>
              <td colSpan={7} className="empty">
                No API keys yet.
              </td>
            </tr>
          )}
          {keys.map((k) => (
            <tr key={k.id}>
              <td>
                <code>{k.id}</code>
              </td>
              <td>{k.name}</td>
              <td>{(k.scopes ?? []).join(", ")}</td>
              <td>{showTime(k.created_at)}</td>
              <td>{showTime(k.expires_at)}</td>
              <td>{showTime(k.last_used_at) || "never"}</td>
              <td>
                {k.revoked_at ? (
                  `revoked ${showTime(k.revoked_at)}`
                ) : (
                  <button type="button" onClick={() => void revoke(k)} aria-label={`Revoke key ${k.name}`}>
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

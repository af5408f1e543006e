import { useEffect, useState, type FormEvent } from "react";
import { Link, useParams } from "react-router-dom";
import { qs } from "../api/client";
import type { Read, Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { ReadImages } from "../contract/ReadImages";
import { useSession } from "../session";
import { showTime } from "../time";

/** One read. Viewing it is audited with a reason: the last search's reason is offered, and used at
 * once when there is one. */
export function ReadPage() {
  const { id = "" } = useParams();
  const s = useSession();
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [read, setRead] = useState<Read | null>(null);
  const [query, setQuery] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function load(r: Reason) {
    setBusy(true);
    setError(null);
    try {
      // The reason goes in a POST body and comes back as a short-lived token; only the token is in
      // the URLs of the record and its images.
      const q = qs({ reason_token: await s.client.reasonToken(r) });
      setRead(await s.client.get<Read>(`/api/v1/reads/${encodeURIComponent(id)}${q}`));
      setQuery(q);
      s.setLastReason(r);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  useEffect(() => {
    if (s.lastReason) void load(s.lastReason);
  }, [id]); // eslint-disable-line react-hooks/exhaustive-deps

  function submit(e: FormEvent) {
    e.preventDefault();
    void load(reason);
  }

  return (
    <section aria-labelledby="read-h">
      <h1 id="read-h">Read {id.slice(0, 12)}</h1>
      {!read && (
        <form onSubmit={submit} aria-label="Reason for viewing this read" className="card">
          <ReasonFields value={reason} onChange={setReason} idPrefix="read" />
          <div className="actions">
            <button type="submit" disabled={busy}>
              View read
            </button>
          </div>
        </form>
      )}
      <ProblemMessage error={error} />
      {read && (
        <div className="card">
          <dl className="summary">
            <dt>VRM</dt>
            <dd className="vrm">{read.vrm}</dd>
            <dt>Seen at</dt>
            <dd>{showTime(read.seen_at)}</dd>
            <dt>Camera</dt>
            <dd>{read.camera_id}</dd>
            <dt>Confidence</dt>
            <dd>{read.confidence !== undefined ? `${Math.round(read.confidence * 100)}%` : "—"}</dd>
            <dt>Lane</dt>
            <dd>{read.lane ?? "—"}</dd>
            <dt>Misread skeleton</dt>
            <dd>
              <code>{read.skeleton}</code>
            </dd>
            <dt>Read id</dt>
            <dd>
              <code>{read.id}</code>
            </dd>
          </dl>
          <ReadImages read={read} query={query} />
          <p>
            <Link to={`/journey?vrm=${encodeURIComponent(read.vrm)}`}>Journey of {read.vrm}</Link>
          </p>
        </div>
      )}
    </section>
  );
}

// GET /api/v1/authorities/queue and its event stream /api/v1/authorities/queue/events ("ready"
// once subscribed, then "queue" whenever the queue changes).
import { useCallback, useEffect, useState } from "react";
import type { Authority } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { AuthorityTable } from "./AuthorityTable";
import { DecisionForm } from "./DecisionForm";

/** Pending requests an authorising officer may decide, oldest first; it refreshes itself when the
 * queue changes (server-sent events), and says when the live link is down. */
export function ApproverQueuePage() {
  const s = useSession();
  const [list, setList] = useState<Authority[] | null>(null);
  const [live, setLive] = useState<"connecting" | "live" | "offline">("connecting");
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState("");
  const [open, setOpen] = useState("");
  const load = useCallback(() => {
    s.client.get<{ authorities: Authority[] | null }>("/api/v1/authorities/queue").then(
      (r) => setList(r.authorities ?? []),
      setError,
    );
  }, [s.client]);
  useEffect(load, [load]);
  useEffect(() => {
    const es = new EventSource("/api/v1/authorities/queue/events", { withCredentials: true });
    // Reload once subscribed too: a request that arrived between the first load and the
    // subscription would otherwise be missed until the next change.
    es.addEventListener("ready", () => {
      setLive("live");
      load();
    });
    es.addEventListener("queue", () => load());
    es.addEventListener("error", () => setLive(es.readyState === EventSource.CLOSED ? "offline" : "connecting"));
    return () => es.close();
  }, [load]);

  const chosen = list?.find((a) => a.id === open);
  return (
    <section aria-labelledby="q-h">
      <h1 id="q-h">Authority requests to decide</h1>
      <p className="meta" role="status" aria-live="polite" data-testid="live">
        {live === "live" ? "Live: this list updates as requests arrive." : live === "connecting" ? "Connecting to live updates…" : "Live updates are off; reload to refresh."}
      </p>
      {done && <p role="status">{done}</p>}
      <ProblemMessage error={error} />
      {list && (
        <AuthorityTable
          list={list}
          caption="Pending requests, oldest first"
          action={(a) => (
            <button type="button" onClick={() => setOpen(a.id)} aria-label={`Decide request ${a.reason.case_ref}`} aria-pressed={open === a.id}>
              Decide
            </button>
          )}
        />
      )}
      {chosen && (
        <section className="card" aria-labelledby="decide-h">
          <h2 id="decide-h">
            Deciding {chosen.reason.case_ref}: {chosen.requester_name || chosen.requester}
          </h2>
          <p>{chosen.searchable}</p>
          <DecisionForm
            key={chosen.id}
            a={chosen}
            onDone={(m) => {
              setDone(m);
              setOpen("");
              load();
            }}
          />
        </section>
      )}
    </section>
  );
}

import { useEffect, useState } from "react";
import type { Checkpoint } from "../api/types";
import { useSession } from "../session";
import { showTime } from "../time";
import { ProblemMessage } from "./ProblemMessage";

/** The newest signed checkpoint: the tree size and root every later verification must extend. */
export function CheckpointPanel({ refresh = 0 }: { refresh?: number }) {
  const s = useSession();
  const [cp, setCp] = useState<Checkpoint | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ac = new AbortController();
    s.client.get<Checkpoint>("/api/v1/audit/checkpoint", ac.signal).then(setCp, (e: unknown) => {
      if (!(e instanceof DOMException)) setError(e);
    });
    return () => ac.abort();
  }, [s.client, refresh]);
  return (
    <section aria-labelledby="cp-h" className="card">
      <h2 id="cp-h">Log integrity</h2>
      <ProblemMessage error={error} />
      {cp && (
        <dl className="summary">
          <dt>Latest signed checkpoint</dt>
          <dd data-testid="checkpoint-size">
            {cp.size} events, signed {showTime(cp.time)} by <code>{cp.origin}</code>
          </dd>
          <dt>Tree root</dt>
          <dd>
            <code className="wrap">{cp.root}</code>
          </dd>
          <dt>Verification</dt>
          <dd>
            The portal does not yet report its last <code>anpr audit verify</code> result over the API; run it on the server (it checks every
            signature and consistency proof against the anchored checkpoints). Verifier keys: <a href="/api/v1/audit/public-keys">public keys</a>.
          </dd>
        </dl>
      )}
    </section>
  );
}

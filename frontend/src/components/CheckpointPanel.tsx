import { useEffect, useState } from "react";
import type { Checkpoint } from "../api/types";
import { verifyNote, type NoteCheck } from "../audit/note";
import { useSession } from "../session";
import { showTime } from "../time";
import { ProblemMessage } from "./ProblemMessage";

/** The newest signed checkpoint (the tree size and root every later verification must extend), its
 * signature checked here in the browser against the published verifier keys. */
export function CheckpointPanel({ refresh = 0 }: { refresh?: number }) {
  const s = useSession();
  const [cp, setCp] = useState<Checkpoint | null>(null);
  const [check, setCheck] = useState<NoteCheck | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    const ac = new AbortController();
    (async () => {
      const c = await s.client.get<Checkpoint>("/api/v1/audit/checkpoint", ac.signal);
      setCp(c);
      const keys = await fetch("/api/v1/audit/public-keys", { signal: ac.signal }).then((r) => (r.ok ? r.text() : ""));
      if (!c.note) return setCheck({ ok: false, why: "the checkpoint carries no signed note" });
      const v = await verifyNote(c.note, keys);
      // The signed text must be this checkpoint: origin, size and root on its first three lines.
      if (v.ok) {
        const [origin, size, root] = v.text.split("\n");
        if (origin !== c.origin || size !== String(c.size) || root !== c.root) {
          return setCheck({ ok: false, why: "the signed note does not match the checkpoint reported" });
        }
      }
      setCheck(v);
    })().catch((e: unknown) => {
      if (!(e instanceof DOMException && e.name === "AbortError")) setError(e);
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
          <dt>Signature</dt>
          <dd data-testid="checkpoint-verify" className={check ? (check.ok ? "ok" : "problem") : undefined}>
            {!check
              ? "Checking…"
              : check.ok
                ? `Verified in this browser: signed by ${check.signer} (Ed25519, published key).`
                : `NOT verified: ${check.why}.`}
          </dd>
          <dt>Whole-log verification</dt>
          <dd>
            The portal does not report its last <code>anpr audit verify</code> result over the API; run it on the server (it re-hashes every event
            and checks each consistency proof against the anchored checkpoints). Verifier keys: <a href="/api/v1/audit/public-keys">public keys</a>.
          </dd>
        </dl>
      )}
    </section>
  );
}

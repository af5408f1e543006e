// GET /api/v1/authorities (the caller's own), POST /api/v1/authorities/:id/revoke.
import { useCallback, useEffect, useState } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { Authority } from "../api/contract";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";
import { AuthorityTable } from "./AuthorityTable";

/** The caller's own authority requests, newest first. */
export function MyAuthoritiesPage() {
  const s = useSession();
  const [params] = useSearchParams();
  const [list, setList] = useState<Authority[] | null>(null);
  const [error, setError] = useState<unknown>(null);
  const load = useCallback(() => {
    s.client.get<{ authorities: Authority[] | null }>("/api/v1/authorities").then(
      (r) => setList(r.authorities ?? []),
      setError,
    );
  }, [s.client]);
  useEffect(load, [load]);
  async function withdraw(a: Authority) {
    const why = window.prompt("Why withdraw this authority?");
    if (!why) return;
    try {
      await s.client.send("POST", `/api/v1/authorities/${encodeURIComponent(a.id)}/revoke`, { reason: why });
      load();
    } catch (e) {
      setError(e);
    }
  }
  const created = params.get("created");
  return (
    <section aria-labelledby="my-h">
      <h1 id="my-h">My authority requests</h1>
      <p>
        <Link to="/authorities/new">Request prior authority</Link>
      </p>
      {created && list?.some((a) => a.id === created && a.state === "pending") && <p role="status">Request {created.slice(0, 8)} submitted; an authorising officer will decide it.</p>}
      <ProblemMessage error={error} />
      {list && (
        <AuthorityTable
          list={list}
          caption="Your requests, newest first"
          action={(a) =>
            a.state === "approved" || a.state === "pending" ? (
              <button type="button" onClick={() => void withdraw(a)} aria-label={`Withdraw authority for ${a.reason.case_ref}`}>
                Withdraw
              </button>
            ) : null
          }
        />
      )}
    </section>
  );
}

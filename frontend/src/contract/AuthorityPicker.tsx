// GET /api/v1/authorities (the caller's own), presented as "authority_id" on search bodies.
import { useEffect, useState } from "react";
import { Link } from "react-router-dom";
import { ApiError } from "../api/client";
import type { Authority, SearchType } from "../api/contract";
import { useSession } from "../session";

/** Whether an authority can still be presented for a search of this type (the server decides; this
 * only keeps spent, expired or other-type authorities out of the list). */
export function usable(a: Authority, t: SearchType, now = Date.now()): boolean {
  if (a.state !== "approved" || a.uses >= a.max_uses) return false;
  if (a.expires_at && new Date(a.expires_at).getTime() <= now) return false;
  return !a.scope.search_types || a.scope.search_types.length === 0 || a.scope.search_types.includes(t);
}

/** Lets the user present one of their approved authorities with a search: needed for band-2 data and
 * for the sensitive search types. Offers the request form when there is none. */
export function AuthorityPicker({
  value,
  onChange,
  searchType,
  requestHref,
}: {
  value: string;
  onChange: (id: string) => void;
  searchType: SearchType;
  requestHref?: string;
}) {
  const s = useSession();
  const [list, setList] = useState<Authority[] | null>(null);
  const [error, setError] = useState<string>("");
  useEffect(() => {
    const ac = new AbortController();
    s.client
      .get<{ authorities: Authority[] | null }>("/api/v1/authorities", ac.signal)
      .then((r) => setList(r.authorities ?? []))
      .catch((e: unknown) => {
        if (e instanceof ApiError) setError(e.detail);
      });
    return () => ac.abort();
  }, [s.client]);
  if (error) return <p className="hint">Your authorities could not be listed: {error}</p>;
  if (list === null) return null;
  const ok = list.filter((a) => usable(a, searchType));
  const pending = list.filter((a) => a.state === "pending").length;
  return (
    <div className="field wide">
      <label htmlFor="authority">Prior authority (needed for band 2 and sensitive searches)</label>
      <select id="authority" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">None</option>
        {ok.map((a) => (
          <option key={a.id} value={a.id}>
            {a.reason.case_ref} — {a.searchable} ({a.max_uses - a.uses} of {a.max_uses} uses left)
          </option>
        ))}
      </select>
      <p className="hint">
        {ok.length === 0 ? "You hold no approved authority for this search type. " : ""}
        {pending > 0 ? `${pending} request${pending === 1 ? "" : "s"} awaiting a decision. ` : ""}
        <Link to={requestHref ?? "/authorities/new"}>Request prior authority</Link>
      </p>
    </div>
  );
}

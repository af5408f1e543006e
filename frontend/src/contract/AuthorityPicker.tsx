// CONTRACT (authority branch): GET /api/v1/authorities; "authority_id" on search bodies.
import { useEffect, useState } from "react";
import { ApiError } from "../api/client";
import type { Authority, SearchType } from "../api/contract";
import { useSession } from "../session";

/** Lets the user present one of their approved authorities with a search. Hidden when the server
 * has no authority API yet (404), so today's searches are unaffected. */
export function AuthorityPicker({ value, onChange, searchType }: { value: string; onChange: (id: string) => void; searchType: SearchType }) {
  const s = useSession();
  const [list, setList] = useState<Authority[] | null>(null);
  const [error, setError] = useState<string>("");
  useEffect(() => {
    const ac = new AbortController();
    s.client
      .get<{ authorities: Authority[] | null }>("/api/v1/authorities", ac.signal)
      .then((r) => setList((r.authorities ?? []).filter((a) => a.state === "approved")))
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 404) setList(null);
        else if (e instanceof ApiError) setError(e.detail);
      });
    return () => ac.abort();
  }, [s.client]);
  if (error) return <p className="hint">Your authorities could not be listed: {error}</p>;
  if (list === null) return null;
  const usable = list.filter((a) => a.scope.search_types.includes(searchType));
  return (
    <div className="field wide">
      <label htmlFor="authority">Prior authority (needed for band 2 and sensitive searches)</label>
      <select id="authority" value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">None</option>
        {usable.map((a) => (
          <option key={a.id} value={a.id}>
            {a.id.slice(0, 8)} — {a.reason.case_ref} — {a.searchable} ({a.max_uses - a.uses} uses left)
          </option>
        ))}
      </select>
    </div>
  );
}

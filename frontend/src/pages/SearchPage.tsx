import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError } from "../api/client";
import type { Hit, Reason, SearchRequest, SearchResult } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { ResultsTable } from "../components/ResultsTable";
import { WindowFields, type Window } from "../components/WindowFields";
import { AuthorityPicker } from "../contract/AuthorityPicker";
import { ExportButton } from "../contract/ExportButton";
import { HistogramPanel } from "../components/HistogramPanel";
import { useSession } from "../session";
import { daysAgo, fromLocalInput, toLocalInput } from "../time";

type Kind = "exact" | "partial" | "misread";

const kinds: { value: Kind; label: string; hint: string }[] = [
  { value: "exact", label: "Exact plate", hint: "The whole VRM, e.g. AB12CDE (spaces ignored)." },
  { value: "partial", label: "Partial plate", hint: "? stands for one character, * for any run, e.g. AB1?C*." },
  { value: "misread", label: "Misread-tolerant", hint: "Also finds look-alike characters (0/O, 8/B, 1/I …); each hit says which." },
];

const pageSize = 50;

/** Exact, partial and misread searches with the structured reason; results paged by cursor. */
export function SearchPage() {
  const s = useSession();
  const [now] = useState(() => new Date());
  const [kind, setKind] = useState<Kind>("exact");
  const [plate, setPlate] = useState("");
  const [win, setWin] = useState<Window>({ from: toLocalInput(daysAgo(30, now)), to: toLocalInput(now) });
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [authorityId, setAuthorityId] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [result, setResult] = useState<SearchResult | null>(null);
  const [request, setRequest] = useState<SearchRequest | null>(null);
  const [pages, setPages] = useState<string[]>([]); // cursors of the pages before the current one
  const [cursor, setCursor] = useState<string>("");

  function body(): SearchRequest | null {
    const from = fromLocalInput(win.from);
    const to = fromLocalInput(win.to);
    if (!from || !to) {
      setError(new Error("Give both ends of the time window."));
      return null;
    }
    const b: SearchRequest = {
      from: from.toISOString(),
      to: to.toISOString(),
      limit: pageSize,
      reason: { ...reason, offence_code: reason.offence_code || undefined },
    };
    if (kind === "partial") b.pattern = plate.trim();
    else b.vrm = plate.trim();
    if (authorityId) b.authority_id = authorityId;
    return b;
  }

  async function run(b: SearchRequest, c: string, before: string[]) {
    setBusy(true);
    setError(null);
    try {
      const r = await s.client.send<SearchResult>("POST", `/api/v1/searches/${kind}`, c ? { ...b, cursor: c } : b);
      setResult(r);
      setRequest(b);
      setCursor(c);
      setPages(before);
      s.setLastReason(reason);
    } catch (e) {
      setError(e);
      if (!c) setResult(null);
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    const b = body();
    if (b) void run(b, "", []);
  }

  const hits: Hit[] = result?.hits ?? [];
  // A refusal a prior authority could lift links to a request for exactly this search.
  const refused = error instanceof ApiError && error.status === 403;
  const askHref = (() => {
    const from = fromLocalInput(win.from);
    const to = fromLocalInput(win.to);
    const q = new URLSearchParams({ type: kind });
    if (kind !== "partial" && plate.trim()) q.set("vrm", plate.trim());
    if (from) q.set("from", from.toISOString());
    if (to) q.set("to", to.toISOString());
    return `/authorities/new?${q.toString()}`;
  })();
  const pageNo = pages.length + 1;
  return (
    <section aria-labelledby="search-h">
      <h1 id="search-h">Search reads</h1>
      <form onSubmit={submit} aria-label="Search reads" className="card">
        <fieldset className="kinds">
          <legend>Search type</legend>
          {kinds.map((k) => (
            <label key={k.value} className="radio">
              <input type="radio" name="kind" value={k.value} checked={kind === k.value} onChange={() => setKind(k.value)} />
              {k.label}
            </label>
          ))}
          <p className="hint">{kinds.find((k) => k.value === kind)?.hint}</p>
        </fieldset>
        <div className="field">
          <label htmlFor="plate">{kind === "partial" ? "Plate pattern" : "Plate (VRM)"}</label>
          <input id="plate" value={plate} onChange={(e) => setPlate(e.target.value.toUpperCase())} required autoComplete="off" spellCheck={false} className="vrm-input" />
        </div>
        <WindowFields value={win} onChange={setWin} idPrefix="search" now={now} />
        <ReasonFields value={reason} onChange={setReason} idPrefix="search" />
        <AuthorityPicker value={authorityId} onChange={setAuthorityId} searchType={kind} requestHref={askHref} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Searching…" : "Search"}
          </button>
        </div>
      </form>
      <ProblemMessage error={error} />
      {refused && !authorityId && (
        <p>
          <Link to={askHref}>Request prior authority for this search</Link> — an authorising officer decides it.
        </p>
      )}
      {result && request && (
        <section aria-labelledby="results-h" className="card">
          <h2 id="results-h">
            Results for {result.query} <span className={`badge band-${result.band}`}>{result.band}</span>
          </h2>
          <p className="meta">
            Page {pageNo}, {hits.length} read{hits.length === 1 ? "" : "s"}. What you were shown is recorded in the audit log (digest{" "}
            <code title={result.digest}>{result.digest.slice(0, 12)}…</code>).
          </p>
          <ResultsTable hits={hits} caption={`${kinds.find((k) => k.value === result.type)?.label ?? result.type} search, page ${pageNo}`} />
          <nav aria-label="Result pages" className="pager">
            <button type="button" disabled={busy || pages.length === 0} onClick={() => void run(request, pages[pages.length - 1] ?? "", pages.slice(0, -1))}>
              Previous page
            </button>
            <button type="button" disabled={busy || !result.next} onClick={() => void run(request, result.next ?? "", [...pages, cursor])}>
              Next page
            </button>
            <ExportButton type={result.type} body={request} />
          </nav>
          <HistogramPanel type={result.type} body={request} />
        </section>
      )}
    </section>
  );
}

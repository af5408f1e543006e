// POST /api/v1/searches/{area,convoy,multi-location} and GET /api/v1/cameras. These searches are
// sensitive: the server refuses them without an authority covering them, and the refusal links to
// a request for exactly the search refused.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { ApiError } from "../api/client";
import type { Area, Camera, ConvoyRequest, ConvoyResult, MultiLocationRequest, MultiLocationResult } from "../api/contract";
import type { Reason, SearchRequest, SearchResult } from "../api/types";
import { HistogramPanel } from "../components/HistogramPanel";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { ResultsTable } from "../components/ResultsTable";
import { RouteMap, type MapPoint } from "../components/RouteMap";
import { WindowFields, type Window } from "../components/WindowFields";
import { useSession } from "../session";
import { daysAgo, fromLocalInput, toLocalInput } from "../time";
import { ConvoyView, MultiView } from "./AnalysisResults";
import { AuthorityPicker } from "./AuthorityPicker";
import { ExportButton } from "./ExportButton";

type Kind = "area" | "convoy" | "multi_location";
interface Circle {
  lat: string;
  lon: string;
  radius: string;
}
interface PlaceInput extends Circle {
  from: string;
  to: string;
}
type Answer = { kind: "area"; r: SearchResult } | { kind: "convoy"; r: ConvoyResult } | { kind: "multi_location"; r: MultiLocationResult };

const areaOf = (p: Circle): Area => ({ centre: [Number(p.lat), Number(p.lon)], radius_m: Number(p.radius) });
const iso = (v: string) => fromLocalInput(v)?.toISOString();
const labels: Record<Kind, string> = {
  area: "Area (who passed here)",
  convoy: "Convoy (who travels with a target)",
  multi_location: "Multi-location (seen at all places)",
};

/** The sensitive searches: who passed an area, who travels with a target (convoy), who was at all
 * of several places (multi-location); results with their evidence on a map. */
export function AnalysisPage() {
  const s = useSession();
  const [now] = useState(() => new Date());
  const [kind, setKind] = useState<Kind>("convoy");
  const [win, setWin] = useState<Window>({ from: toLocalInput(daysAgo(28, now)), to: toLocalInput(now) });
  const [centre, setCentre] = useState<Circle>({ lat: "51.5074", lon: "-0.1278", radius: "1000" });
  const [vrm, setVrm] = useState("");
  const [within, setWithin] = useState("120");
  const [minCams, setMinCams] = useState("2");
  const [places, setPlaces] = useState<PlaceInput[]>([
    { lat: "51.5074", lon: "-0.1278", radius: "1500", from: toLocalInput(daysAgo(7, now)), to: toLocalInput(now) },
    { lat: "51.5550", lon: "-0.2790", radius: "1500", from: toLocalInput(daysAgo(7, now)), to: toLocalInput(now) },
  ]);
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [authorityId, setAuthorityId] = useState("");
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [answer, setAnswer] = useState<Answer | null>(null);
  const [body, setBody] = useState<object | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    s.client.get<{ cameras: Camera[] | null }>("/api/v1/cameras").then((r) => setCameras(r.cameras ?? []), setError);
  }, [s.client]);
  const byId = useMemo(() => new Map(cameras.map((c) => [c.id, c])), [cameras]);

  function request(): object {
    const common = { reason: { ...reason, offence_code: reason.offence_code || undefined }, authority_id: authorityId || undefined };
    if (kind === "area") return { ...common, area: areaOf(centre), from: iso(win.from), to: iso(win.to), limit: 100 } satisfies SearchRequest;
    if (kind === "convoy")
      return { ...common, vrm: vrm.trim(), within_seconds: Number(within), min_cameras: Number(minCams), from: iso(win.from), to: iso(win.to) } satisfies ConvoyRequest;
    return { ...common, places: places.map((p) => ({ area: areaOf(p), from: iso(p.from), to: iso(p.to) })) } satisfies MultiLocationRequest;
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const b = request();
    setBusy(true);
    setError(null);
    try {
      const path = `/api/v1/searches/${kind === "multi_location" ? "multi-location" : kind}`;
      const r = await s.client.send<SearchResult & ConvoyResult & MultiLocationResult>("POST", path, b);
      setAnswer({ kind, r } as Answer);
      setBody(b);
      s.setLastReason(reason);
    } catch (err) {
      setError(err);
      setAnswer(null);
    } finally {
      setBusy(false);
    }
  }

  const askHref = useMemo(() => {
    const q = new URLSearchParams({ type: kind });
    if (kind === "convoy" && vrm.trim()) q.set("vrm", vrm.trim());
    const from = kind === "multi_location" ? iso(places.map((p) => p.from).sort()[0] ?? "") : iso(win.from);
    const to = kind === "multi_location" ? iso(places.map((p) => p.to).sort().at(-1) ?? "") : iso(win.to);
    if (from) q.set("from", from);
    if (to) q.set("to", to);
    return `/authorities/new?${q.toString()}`;
  }, [kind, vrm, win, places]);

  const areaPoints: MapPoint[] = useMemo(() => {
    if (answer?.kind !== "area") return [];
    const seen = new Map<string, number>();
    for (const h of answer.r.hits ?? []) seen.set(h.camera_id, (seen.get(h.camera_id) ?? 0) + 1);
    return [...seen].flatMap(([id, n]) => {
      const c = byId.get(id);
      return c ? [{ id, lat: c.lat, lon: c.lon, label: `${c.name}: ${n} read${n === 1 ? "" : "s"} on this page`, kind: "evidence" as const }] : [];
    });
  }, [answer, byId]);

  const setPlace = (i: number, k: keyof PlaceInput, v: string) => setPlaces(places.map((p, j) => (j === i ? { ...p, [k]: v } : p)));
  const refused = error instanceof ApiError && error.status === 403;
  return (
    <section aria-labelledby="an-h">
      <h1 id="an-h">Area, convoy and multi-location</h1>
      <p>These searches need an approved authority in every data-age band. {cameras.length > 0 && `${cameras.length} cameras in the registry.`}</p>
      <form onSubmit={submit} aria-label="Analysis search" className="card">
        <fieldset className="kinds">
          <legend>Analysis</legend>
          {(["convoy", "area", "multi_location"] as Kind[]).map((k) => (
            <label key={k} className="radio">
              <input type="radio" name="an-kind" checked={kind === k} onChange={() => setKind(k)} />
              {labels[k]}
            </label>
          ))}
        </fieldset>
        {kind === "area" && (
          <fieldset>
            <legend>Area: centre and radius (up to 3,000 m)</legend>
            <Coord idp="an-c" v={centre} onChange={(k, v) => setCentre({ ...centre, [k]: v })} />
          </fieldset>
        )}
        {kind === "convoy" && (
          <fieldset>
            <legend>Target</legend>
            <div className="field">
              <label htmlFor="an-vrm">Target plate (VRM)</label>
              <input id="an-vrm" value={vrm} onChange={(e) => setVrm(e.target.value.toUpperCase())} required className="vrm-input" autoComplete="off" />
            </div>
            <div className="field">
              <label htmlFor="an-within">Within seconds of the target</label>
              <input id="an-within" type="number" min={1} max={600} value={within} onChange={(e) => setWithin(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="an-k">At this many distinct cameras</label>
              <input id="an-k" type="number" min={2} max={50} value={minCams} onChange={(e) => setMinCams(e.target.value)} />
            </div>
          </fieldset>
        )}
        {kind !== "multi_location" ? (
          <WindowFields value={win} onChange={setWin} idPrefix="an" now={now} />
        ) : (
          places.map((p, i) => (
            <fieldset key={i}>
              <legend>Place {i + 1} (window up to 7 days)</legend>
              <Coord idp={`an-p${i}`} v={p} onChange={(k, v) => setPlace(i, k, v)} />
              <div className="field">
                <label htmlFor={`an-p${i}-from`}>From</label>
                <input id={`an-p${i}-from`} type="datetime-local" value={p.from} onChange={(e) => setPlace(i, "from", e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor={`an-p${i}-to`}>To</label>
                <input id={`an-p${i}-to`} type="datetime-local" value={p.to} onChange={(e) => setPlace(i, "to", e.target.value)} />
              </div>
              {places.length > 2 && (
                <button type="button" className="secondary" onClick={() => setPlaces(places.filter((_, j) => j !== i))}>
                  Remove place {i + 1}
                </button>
              )}
            </fieldset>
          ))
        )}
        {kind === "multi_location" && places.length < 6 && (
          <button type="button" className="secondary" onClick={() => setPlaces([...places, { ...places[places.length - 1]! }])}>
            Add a place
          </button>
        )}
        <ReasonFields value={reason} onChange={setReason} idPrefix="an" />
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
      {answer && body && (
        <section className="card" aria-labelledby="an-r">
          <h2 id="an-r">
            {labels[answer.kind]} <span className={`badge band-${answer.r.band}`}>{answer.r.band}</span>
          </h2>
          {answer.kind === "convoy" && <ConvoyView r={answer.r} cameras={byId} />}
          {answer.kind === "multi_location" && <MultiView r={answer.r} cameras={byId} />}
          {answer.kind === "area" && (
            <>
              {areaPoints.length > 0 && <RouteMap points={areaPoints} lines={[]} label="Map of the area's cameras with reads" />}
              <p className="meta">
                {(answer.r.hits ?? []).length} reads{answer.r.next ? " (the first 100; export for all)" : ""}.
              </p>
              <ResultsTable hits={answer.r.hits ?? []} caption="Reads in the area, newest first" />
              <ExportButton type="area" body={body} />
            </>
          )}
          <HistogramPanel type={answer.kind} body={body} />
        </section>
      )}
    </section>
  );
}

function Coord({ idp, v, onChange }: { idp: string; v: Circle; onChange: (k: keyof Circle, v: string) => void }) {
  return (
    <>
      <div className="field">
        <label htmlFor={`${idp}-lat`}>Latitude</label>
        <input id={`${idp}-lat`} inputMode="decimal" value={v.lat} onChange={(e) => onChange("lat", e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor={`${idp}-lon`}>Longitude</label>
        <input id={`${idp}-lon`} inputMode="decimal" value={v.lon} onChange={(e) => onChange("lon", e.target.value)} required />
      </div>
      <div className="field">
        <label htmlFor={`${idp}-r`}>Radius (metres)</label>
        <input id={`${idp}-r`} type="number" min={10} max={3000} value={v.radius} onChange={(e) => onChange("radius", e.target.value)} required />
      </div>
    </>
  );
}

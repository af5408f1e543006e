// CONTRACT (search branches): POST /api/v1/searches/{area,convoy,multi-location}; GET /api/v1/cameras.
// The contract fixes the "area" JSON and the authority id but not the convoy / multi-location
// bodies or answers; the field names below (vrm, within_seconds, locations[]) are our best reading
// and the result view is deliberately generic (a table of whatever rows come back, plotted when
// they carry lat/lon) so that a differing answer still shows. Check at merge.
import { useEffect, useMemo, useState, type FormEvent } from "react";
import type { Area, Camera } from "../api/contract";
import type { Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { RouteMap, type MapPoint } from "../components/RouteMap";
import { WindowFields, type Window } from "../components/WindowFields";
import { useSession } from "../session";
import { daysAgo, toLocalInput } from "../time";
import { AuthorityPicker } from "./AuthorityPicker";
import { ExportButton } from "./ExportButton";
import { GenericResult, rowsOf } from "./GenericResult";

type Kind = "area" | "convoy" | "multi_location";

interface Place {
  lat: string;
  lon: string;
  radius: string;
  from: string;
  to: string;
}

function areaOf(p: { lat: string; lon: string; radius: string }): Area {
  return { centre: [Number(p.lat), Number(p.lon)], radius_m: Number(p.radius) };
}

/** The sensitive searches (they need an authority in every band): who passed an area, who travels
 * with a target (convoy), who was at all of several places (multi-location). */
export function AnalysisPage() {
  const s = useSession();
  const [now] = useState(() => new Date());
  const [kind, setKind] = useState<Kind>("area");
  const [win, setWin] = useState<Window>({ from: toLocalInput(daysAgo(7, now)), to: toLocalInput(now) });
  const [centre, setCentre] = useState({ lat: "51.5074", lon: "-0.1278", radius: "1000" });
  const [vrm, setVrm] = useState("");
  const [within, setWithin] = useState("120");
  const [places, setPlaces] = useState<Place[]>([
    { lat: "51.5074", lon: "-0.1278", radius: "1000", from: win.from, to: win.to },
    { lat: "51.5550", lon: "-0.2790", radius: "1000", from: win.from, to: win.to },
  ]);
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [authorityId, setAuthorityId] = useState("");
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [result, setResult] = useState<unknown>(null);
  const [body, setBody] = useState<object | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    s.client.get<{ cameras: Camera[] | null }>("/api/v1/cameras").then((r) => setCameras(r.cameras ?? []), () => setCameras([]));
  }, [s.client]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const iso = (v: string) => new Date(v).toISOString();
    const common = { reason: { ...reason, offence_code: reason.offence_code || undefined }, authority_id: authorityId || undefined };
    let b: object;
    if (kind === "area") b = { ...common, area: areaOf(centre), from: iso(win.from), to: iso(win.to) };
    else if (kind === "convoy") b = { ...common, vrm: vrm.trim(), within_seconds: Number(within), from: iso(win.from), to: iso(win.to) };
    else b = { ...common, locations: places.map((p) => ({ area: areaOf(p), from: iso(p.from), to: iso(p.to) })) };
    setBusy(true);
    setError(null);
    try {
      setResult(await s.client.send("POST", `/api/v1/searches/${kind === "multi_location" ? "multi-location" : kind}`, b));
      setBody(b);
      s.setLastReason(reason);
    } catch (err) {
      setError(err);
      setResult(null);
    } finally {
      setBusy(false);
    }
  }

  const points: MapPoint[] = useMemo(() => {
    const pts: MapPoint[] = cameras.map((c) => ({ id: c.id, lat: c.lat, lon: c.lon, label: `${c.id} ${c.name}`, kind: "camera" }));
    for (const r of rowsOf(result)) {
      const lat = Number(r["lat"]);
      const lon = Number(r["lon"]);
      if (Number.isFinite(lat) && Number.isFinite(lon) && r["lat"] !== undefined) {
        pts.push({ id: String(r["id"] ?? `${lat},${lon}`), lat, lon, label: String(r["vrm"] ?? r["camera_name"] ?? r["camera_id"] ?? ""), kind: "evidence" });
      }
    }
    return pts;
  }, [cameras, result]);

  const setPlace = (i: number, k: keyof Place, v: string) => setPlaces(places.map((p, j) => (j === i ? { ...p, [k]: v } : p)));
  return (
    <section aria-labelledby="an-h">
      <h1 id="an-h">Area, convoy and multi-location</h1>
      <p>These searches need an approved authority in every data-age band.</p>
      <form onSubmit={submit} aria-label="Analysis search" className="card">
        <fieldset className="kinds">
          <legend>Analysis</legend>
          {(["area", "convoy", "multi_location"] as Kind[]).map((k) => (
            <label key={k} className="radio">
              <input type="radio" name="an-kind" checked={kind === k} onChange={() => setKind(k)} />
              {k === "area" ? "Area (who passed here)" : k === "convoy" ? "Convoy (who travels with a target)" : "Multi-location (seen at all places)"}
            </label>
          ))}
        </fieldset>
        {kind === "area" && (
          <fieldset>
            <legend>Area: centre and radius</legend>
            <Coord idp="an-c" v={centre} onChange={(k, v) => setCentre({ ...centre, [k]: v })} />
          </fieldset>
        )}
        {kind === "convoy" && (
          <>
            <div className="field">
              <label htmlFor="an-vrm">Target plate (VRM)</label>
              <input id="an-vrm" value={vrm} onChange={(e) => setVrm(e.target.value.toUpperCase())} required className="vrm-input" />
            </div>
            <div className="field">
              <label htmlFor="an-within">Within seconds of the target</label>
              <input id="an-within" type="number" min={1} max={3600} value={within} onChange={(e) => setWithin(e.target.value)} />
            </div>
          </>
        )}
        {kind !== "multi_location" ? (
          <WindowFields value={win} onChange={setWin} idPrefix="an" now={now} />
        ) : (
          places.map((p, i) => (
            <fieldset key={i}>
              <legend>Place {i + 1}</legend>
              <Coord idp={`an-p${i}`} v={p} onChange={(k, v) => setPlace(i, k, v)} />
              <div className="field">
                <label htmlFor={`an-p${i}-from`}>From</label>
                <input id={`an-p${i}-from`} type="datetime-local" value={p.from} onChange={(e) => setPlace(i, "from", e.target.value)} />
              </div>
              <div className="field">
                <label htmlFor={`an-p${i}-to`}>To</label>
                <input id={`an-p${i}-to`} type="datetime-local" value={p.to} onChange={(e) => setPlace(i, "to", e.target.value)} />
              </div>
            </fieldset>
          ))
        )}
        {kind === "multi_location" && (
          <button type="button" className="secondary" onClick={() => setPlaces([...places, { ...places[places.length - 1]! }])}>
            Add a place
          </button>
        )}
        <ReasonFields value={reason} onChange={setReason} idPrefix="an" />
        <AuthorityPicker value={authorityId} onChange={setAuthorityId} searchType={kind} />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Searching…" : "Search"}
          </button>
        </div>
      </form>
      <ProblemMessage error={error} />
      {points.length > 0 && <RouteMap points={points} lines={[]} label="Map of cameras and the evidence found" />}
      {result !== null && (
        <section className="card" aria-labelledby="an-r">
          <h2 id="an-r">Results</h2>
          <GenericResult value={result} />
          {body && <ExportButton type={kind} body={body} />}
        </section>
      )}
    </section>
  );
}

function Coord({ idp, v, onChange }: { idp: string; v: { lat: string; lon: string; radius: string }; onChange: (k: "lat" | "lon" | "radius", v: string) => void }) {
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
        <input id={`${idp}-r`} type="number" min={10} max={20000} value={v.radius} onChange={(e) => onChange("radius", e.target.value)} required />
      </div>
    </>
  );
}

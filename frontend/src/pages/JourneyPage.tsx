import { useMemo, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";
import type { Journey, JourneyRequest, Reason, Stop } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { RouteMap, type MapLabel, type MapLine, type MapPoint } from "../components/RouteMap";
import { WindowFields, type Window } from "../components/WindowFields";
import { useSession } from "../session";
import { daysAgo, fromLocalInput, showTime, toLocalInput } from "../time";
import { JourneyTimeline } from "../components/JourneyTimeline";
import { TravelFlags } from "../components/TravelFlags";

/** A plate's reads in time order on a map, with first/last seen and impossible-travel flags. */
export function JourneyPage() {
  const s = useSession();
  const [params] = useSearchParams();
  const [now] = useState(() => new Date());
  const [vrm, setVrm] = useState(params.get("vrm") ?? "");
  const [win, setWin] = useState<Window>({ from: toLocalInput(daysAgo(30, now)), to: toLocalInput(now) });
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [journey, setJourney] = useState<Journey | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const from = fromLocalInput(win.from);
    const to = fromLocalInput(win.to);
    if (!from || !to) return setError(new Error("Give both ends of the time window."));
    const body: JourneyRequest = { vrm: vrm.trim(), from: from.toISOString(), to: to.toISOString(), reason: { ...reason, offence_code: reason.offence_code || undefined } };
    setBusy(true);
    setError(null);
    try {
      setJourney(await s.client.send<Journey>("POST", "/api/v1/searches/journey", body));
      s.setLastReason(reason);
    } catch (err) {
      setError(err);
      setJourney(null);
    } finally {
      setBusy(false);
    }
  }

  const stops: Stop[] = journey?.stops ?? [];
  const flags = journey?.impossible_travel ?? [];
  const labels = useMemo(() => cameraLabels(stops), [journey]); // eslint-disable-line react-hooks/exhaustive-deps
  const { points, lines } = useMemo(() => mapData(stops, new Set(flags.flatMap((f) => [f.from_id, f.to_id]))), [journey]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <section aria-labelledby="journey-h">
      <h1 id="journey-h">Journey</h1>
      <form onSubmit={submit} aria-label="Journey search" className="card">
        <div className="field">
          <label htmlFor="journey-vrm">Plate (VRM)</label>
          <input id="journey-vrm" value={vrm} onChange={(e) => setVrm(e.target.value.toUpperCase())} required autoComplete="off" spellCheck={false} className="vrm-input" />
        </div>
        <WindowFields value={win} onChange={setWin} idPrefix="journey" now={now} />
        <ReasonFields value={reason} onChange={setReason} idPrefix="journey" />
        <div className="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Loading…" : "Show journey"}
          </button>
        </div>
      </form>
      <ProblemMessage error={error} />
      {journey && (
        <section aria-labelledby="jr-h" className="card">
          <h2 id="jr-h">
            {journey.vrm}: {stops.length} read{stops.length === 1 ? "" : "s"} <span className={`badge band-${journey.band}`}>{journey.band}</span>
          </h2>
          {journey.truncated && <p role="status" className="warn">The journey was cut at the server's cap; narrow the window to see all of it.</p>}
          <dl className="summary">
            <dt>First seen</dt>
            <dd>{journey.first_seen ? `${showTime(journey.first_seen.seen_at)} at ${journey.first_seen.camera_name}` : "—"}</dd>
            <dt>Last seen</dt>
            <dd>{journey.last_seen ? `${showTime(journey.last_seen.seen_at)} at ${journey.last_seen.camera_name}` : "—"}</dd>
            <dt>Flagged above</dt>
            <dd>{Math.round(journey.max_speed_kph)} km/h between consecutive reads</dd>
            <dt>Impossible travel</dt>
            <dd>
              {flags.length === 0 ? (
                "none"
              ) : (
                <strong className="flag-text">
                  {flags.length} flag{flags.length === 1 ? "" : "s"}: possible cloned plate
                </strong>
              )}
            </dd>
          </dl>
          {stops.length > 0 && <RouteMap points={points} lines={lines} label={`Map of ${journey.vrm}'s ${stops.length} reads; red dashed legs are impossible travel`} labels={labels} />}
          <p className="legend" aria-hidden="true">
            <span className="dot first" /> first seen <span className="dot last" /> last seen <span className="dot stop" /> read{" "}
            <span className="dot flagged" /> part of an impossible leg
          </p>
          <TravelFlags flags={flags} />
          <JourneyTimeline stops={stops} flagged={new Set(flags.flatMap((f) => [f.from_id, f.to_id]))} />
          <p>
            <Link to="/search">New search</Link>
          </p>
        </section>
      )}
    </section>
  );
}

/** One label per camera the plate passed (the part after "road / "), the timeline has the rest. */
function cameraLabels(stops: Stop[]): MapLabel[] {
  const seen = new Map<string, MapLabel>();
  for (const st of stops) {
    const key = `${st.lat.toFixed(4)},${st.lon.toFixed(4)}`;
    if (!seen.has(key)) seen.set(key, { lat: st.lat, lon: st.lon, text: st.camera_name.split(" / ").pop() ?? st.camera_name });
  }
  return [...seen.values()].slice(0, 40);
}

function mapData(stops: Stop[], flagged: Set<string>): { points: MapPoint[]; lines: MapLine[] } {
  const points: MapPoint[] = stops.map((st, i) => ({
    id: st.id,
    lon: st.lon,
    lat: st.lat,
    label: `${showTime(st.seen_at)} — ${st.camera_name}${st.road ? `, ${st.road}` : ""}`,
    kind: i === 0 ? "first" : i === stops.length - 1 ? "last" : flagged.has(st.id) ? "flagged" : "stop",
  }));
  const lines: MapLine[] = [];
  for (let i = 1; i < stops.length; i++) {
    const a = stops[i - 1]!;
    const b = stops[i]!;
    lines.push({ coords: [[a.lon, a.lat], [b.lon, b.lat]], flagged: flagged.has(a.id) && flagged.has(b.id) });
  }
  return { points, lines };
}

// The answers of the convoy and multi-location searches (api/openapi.yaml ConvoyResult and
// MultiLocationResult), with their evidence: which cameras, when, and the time gaps.
import { useMemo, useState } from "react";
import { Link } from "react-router-dom";
import type { Camera, Companion, ConvoyResult, MultiLocationResult } from "../api/contract";
import { RouteMap, type MapLine, type MapPoint } from "../components/RouteMap";
import { showTime } from "../time";

const gap = (s: number) => `${s >= 0 ? "+" : "−"}${Math.abs(Math.round(s))} s`;

/** Companions of the target, best first; the chosen one's shared cameras are drawn in time order. */
export function ConvoyView({ r, cameras }: { r: ConvoyResult; cameras: Map<string, Camera> }) {
  const list = r.companions ?? [];
  const [chosen, setChosen] = useState(list[0]?.vrm ?? "");
  const c = list.find((x) => x.vrm === chosen);
  const { points, lines } = useMemo(() => convoyMap(c, cameras), [c, cameras]);
  return (
    <>
      <p className="meta">
        {r.target_reads} reads of {r.vrm}; vehicles seen within {r.within_seconds} s of it at {r.min_cameras} or more distinct cameras.
        {r.truncated ? " The result was cut at a bound: narrow the window." : ""} Digest <code title={r.digest}>{r.digest.slice(0, 12)}…</code>
      </p>
      {list.length === 0 ? (
        <p role="status">No vehicle travelled with {r.vrm} in this window.</p>
      ) : (
        <table className="results">
          <caption>Vehicles travelling with {r.vrm}, best first</caption>
          <thead>
            <tr>
              <th scope="col">VRM</th>
              <th scope="col">Distinct cameras</th>
              <th scope="col">Sightings</th>
              <th scope="col">Mean gap</th>
              <th scope="col">Evidence</th>
            </tr>
          </thead>
          <tbody>
            {list.map((x) => (
              <tr key={x.vrm} className={x.vrm === chosen ? "chosen" : undefined}>
                <td className="vrm">{x.vrm}</td>
                <td>{x.cameras.length}</td>
                <td>{x.sightings.length}</td>
                <td>{gap(x.mean_gap_seconds)}</td>
                <td>
                  <button type="button" className="link" onClick={() => setChosen(x.vrm)} aria-pressed={x.vrm === chosen}>
                    Show evidence for {x.vrm}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {c && (
        <>
          {points.length > 0 && <RouteMap points={points} lines={lines} label={`Map of the cameras where ${c.vrm} was seen with ${r.vrm}`} />}
          <table className="results">
            <caption>
              Evidence: {c.vrm} with {r.vrm}
            </caption>
            <thead>
              <tr>
                <th scope="col">Camera</th>
                <th scope="col">{r.vrm} seen</th>
                <th scope="col">{c.vrm} seen</th>
                <th scope="col">Gap</th>
                <th scope="col">Reads</th>
              </tr>
            </thead>
            <tbody>
              {[...c.sightings]
                .sort((a, b) => a.target_seen_at.localeCompare(b.target_seen_at))
                .map((s) => (
                  <tr key={s.read_id}>
                    <td>
                      {cameras.get(s.camera_id)?.name ?? s.camera_id} <span className="hint">{s.camera_id}</span>
                    </td>
                    <td>{showTime(s.target_seen_at)}</td>
                    <td>{showTime(s.seen_at)}</td>
                    <td>{gap(s.gap_seconds)}</td>
                    <td>
                      <Link to={`/reads/${encodeURIComponent(s.target_read_id)}`}>Target read</Link>{" "}
                      <Link to={`/reads/${encodeURIComponent(s.read_id)}`}>Companion read</Link>
                    </td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

function convoyMap(c: Companion | undefined, cameras: Map<string, Camera>): { points: MapPoint[]; lines: MapLine[] } {
  if (!c) return { points: [], lines: [] };
  const order = [...c.sightings].sort((a, b) => a.target_seen_at.localeCompare(b.target_seen_at));
  const points: MapPoint[] = [];
  const lines: MapLine[] = [];
  let prev: { cam: Camera; at: number } | undefined;
  for (const s of order) {
    const cam = cameras.get(s.camera_id);
    if (!cam) continue;
    const at = Date.parse(s.target_seen_at);
    points.push({ id: s.read_id, lat: cam.lat, lon: cam.lon, label: `${cam.name}: ${showTime(s.target_seen_at)}, gap ${gap(s.gap_seconds)}`, kind: "evidence" });
    // Legs join sightings of one trip only (under two hours apart), not one evening to the next.
    if (prev && prev.cam.id !== cam.id && at - prev.at < 2 * 3600e3) {
      lines.push({ coords: [[prev.cam.lon, prev.cam.lat], [cam.lon, cam.lat]], flagged: false });
    }
    prev = { cam, at };
  }
  return { points, lines };
}

/** Vehicles seen at every place, with their count and first read at each. */
export function MultiView({ r, cameras }: { r: MultiLocationResult; cameras: Map<string, Camera> }) {
  const vehicles = r.vehicles ?? [];
  const points: MapPoint[] = useMemo(
    () =>
      r.places.flatMap((p, i) =>
        p.cameras.flatMap((id) => {
          const cam = cameras.get(id);
          return cam ? [{ id: `${i}-${id}`, lat: cam.lat, lon: cam.lon, label: `Place ${i + 1}: ${cam.name}`, kind: "evidence" as const }] : [];
        }),
      ),
    [r, cameras],
  );
  return (
    <>
      <p className="meta">
        {r.places.length} places; {vehicles.length} vehicle{vehicles.length === 1 ? "" : "s"} seen at every one.
        {r.truncated ? " The result was cut at a bound: narrow the places." : ""} Digest <code title={r.digest}>{r.digest.slice(0, 12)}…</code>
      </p>
      {points.length > 0 && <RouteMap points={points} lines={[]} label="Map of the cameras of each place" />}
      {vehicles.length === 0 ? (
        <p role="status">No vehicle was seen at every place.</p>
      ) : (
        <table className="results">
          <caption>Vehicles seen at every place</caption>
          <thead>
            <tr>
              <th scope="col">VRM</th>
              {r.places.map((p, i) => (
                <th scope="col" key={i}>
                  Place {i + 1} ({p.cameras.length} camera{p.cameras.length === 1 ? "" : "s"}, {showTime(p.from)} – {showTime(p.to)})
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {vehicles.map((v) => (
              <tr key={v.vrm}>
                <td className="vrm">{v.vrm}</td>
                {v.places.map((e, i) => (
                  <td key={i}>
                    {e.count} read{e.count === 1 ? "" : "s"}; first <Link to={`/reads/${encodeURIComponent(e.first.id)}`}>{showTime(e.first.seen_at)}</Link> at{" "}
                    {cameras.get(e.first.camera_id)?.name ?? e.first.camera_id}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

import type { TravelFlag } from "../api/types";

/** Legs no vehicle could drive: the evidence of a cloned plate. */
export function TravelFlags({ flags }: { flags: TravelFlag[] }) {
  if (flags.length === 0) return null;
  return (
    <table className="flags">
      <caption>Impossible travel (legs faster than any vehicle could drive)</caption>
      <thead>
        <tr>
          <th scope="col">From camera</th>
          <th scope="col">To camera</th>
          <th scope="col">Distance</th>
          <th scope="col">Time between</th>
          <th scope="col">Speed needed</th>
        </tr>
      </thead>
      <tbody>
        {flags.map((f) => (
          <tr key={`${f.from_id}-${f.to_id}`}>
            <td>{f.from_camera}</td>
            <td>{f.to_camera}</td>
            <td>{f.distance_km.toFixed(1)} km</td>
            <td>{f.simultaneous ? "same moment" : `${Math.round(f.seconds)} s`}</td>
            <td>{f.simultaneous ? "—" : `${Math.round(f.speed_kph)} km/h`}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

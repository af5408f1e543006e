import { Link } from "react-router-dom";
import type { Hit } from "../api/types";
import { showTime } from "../time";

/** One page of search hits; each links to its read detail and to the plate's journey. */
export function ResultsTable({ hits, caption }: { hits: Hit[]; caption: string }) {
  if (hits.length === 0) return <p role="status">No reads match in this window.</p>;
  return (
    <table className="results">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Seen at</th>
          <th scope="col">VRM</th>
          <th scope="col">Camera</th>
          <th scope="col">Confidence</th>
          <th scope="col">Match</th>
          <th scope="col">Open</th>
        </tr>
      </thead>
      <tbody>
        {hits.map((h) => (
          <tr key={h.id}>
            <td>{showTime(h.seen_at)}</td>
            <td className="vrm">{h.vrm}</td>
            <td>{h.camera_id}</td>
            <td>{h.confidence !== undefined ? `${Math.round(h.confidence * 100)}%` : ""}</td>
            <td className={h.match && (h.match.distance > 0 || h.match.confusables > 0) ? "match-diff" : undefined}>{h.match ? h.match.explanation : "exact"}</td>
            <td>
              <Link to={`/reads/${encodeURIComponent(h.id)}`}>Read {h.id.slice(0, 8)}</Link>{" "}
              <Link to={`/journey?vrm=${encodeURIComponent(h.vrm)}`}>Journey</Link>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

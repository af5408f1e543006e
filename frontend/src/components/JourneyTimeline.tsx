import { Link } from "react-router-dom";
import type { Stop } from "../api/types";
import { showTime } from "../time";

/** The journey's reads in time order; a read in an impossible leg is marked. */
export function JourneyTimeline({ stops, flagged }: { stops: Stop[]; flagged: Set<string> }) {
  return (
    <section aria-labelledby="tl-h">
      <h3 id="tl-h">Timeline</h3>
      <ol className="timeline">
        {stops.map((st) => (
          <li key={st.id} className={flagged.has(st.id) ? "flagged" : undefined}>
            <time dateTime={st.seen_at}>{showTime(st.seen_at)}</time> — {st.camera_name}
            {st.road ? `, ${st.road}` : ""} {flagged.has(st.id) && <strong className="flag-text">impossible travel</strong>}{" "}
            <Link to={`/reads/${encodeURIComponent(st.id)}`} aria-label={`Read at ${st.camera_name}, ${showTime(st.seen_at)}`}>
              details
            </Link>
          </li>
        ))}
      </ol>
    </section>
  );
}

import type { Anomaly } from "../api/types";

const names: Record<Anomaly["kind"], string> = {
  volume_spike: "Volume spike",
  out_of_hours: "Out-of-hours use",
  many_users_one_vrm: "Many users on one VRM",
  vague_reason: "Vague reason",
  repeated_reason: "Repeated reason",
  denied_then_retried: "Denied, then retried",
};

export function AnomalyList({ anomalies }: { anomalies: Anomaly[] }) {
  if (anomalies.length === 0) return <p role="status">No anomalies in this window.</p>;
  return (
    <ul className="anomalies">
      {anomalies.map((a, i) => (
        <li key={i}>
          <strong>{names[a.kind] ?? a.kind}</strong>
          {a.actor ? ` — ${a.actor}` : ""}
          {a.vrm ? ` — ${a.vrm}` : ""}
          {a.day ? ` — ${a.day}` : ""}: {a.detail} ({a.count}; events {(a.seqs ?? []).slice(0, 10).join(", ")}
          {(a.seqs?.length ?? 0) > 10 ? "…" : ""})
        </li>
      ))}
    </ul>
  );
}

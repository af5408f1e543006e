import type { AuditRecord } from "../api/types";
import { showTime } from "../time";

/** Audit records: who did what, decided by which rule, with what reason and result. */
export function AuditTable({ records, caption, onActor }: { records: AuditRecord[]; caption: string; onActor?: (subject: string, name: string) => void }) {
  if (records.length === 0) return <p role="status">No audit events match.</p>;
  return (
    <div className="scroll-x">
    <table className="audit">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Seq</th>
          <th scope="col">Time</th>
          <th scope="col">Actor</th>
          <th scope="col">Action</th>
          <th scope="col">Decision</th>
          <th scope="col">Reason</th>
          <th scope="col">Query</th>
          <th scope="col">Results</th>
        </tr>
      </thead>
      <tbody>
        {records.map(({ event: ev, payload, erased_by }) => (
          <tr key={`${ev.chain}-${ev.seq}`} className={ev.decision === "deny" ? "denied" : undefined}>
            <td>{ev.seq}</td>
            <td className="nowrap">{showTime(ev.time)}</td>
            <td className="nowrap">
              {onActor ? (
                <button type="button" className="link" onClick={() => onActor(ev.actor.subject, ev.actor.name)} aria-label={`Timeline of ${ev.actor.name}`}>
                  {ev.actor.name}
                </button>
              ) : (
                ev.actor.name
              )}
            </td>
            <td>
              {ev.action}
              {ev.stage ? ` (${ev.stage})` : ""}
            </td>
            <td>
              {ev.decision ?? ""}
              {ev.rule ? <div className="rule">{ev.rule}</div> : null}
            </td>
            <td>
              {[ev.reason.purpose, ev.reason.case_ref, ev.reason.offence_code].filter(Boolean).join(" · ")}
              {payload?.justification ? <div className="just">“{payload.justification}”</div> : null}
              {erased_by ? <div className="hint">payload erased by event {erased_by}</div> : null}
            </td>
            <td>
              {payload?.vrms?.join(", ") || payload?.query || ""}
              {ev.authority_id ? <div className="just">authority {ev.authority_id}</div> : null}
            </td>
            <td>{ev.stage === "intent" ? "" : ev.result_count}</td>
          </tr>
        ))}
      </tbody>
    </table>
    </div>
  );
}

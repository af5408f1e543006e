import type { ReactNode } from "react";
import type { Authority } from "../api/contract";
import { purposes } from "../components/ReasonFields";
import { showTime } from "../time";

const purposeLabel = (v: string | undefined) => purposes.find((p) => p.value === v)?.label.replace(/ \(.*\)$/, "") ?? v ?? "";

/** Authorities with their state, scope in plain words, and use count. */
export function AuthorityTable({ list, caption, action }: { list: Authority[]; caption: string; action?: (a: Authority) => ReactNode }) {
  if (list.length === 0) return <p role="status">None.</p>;
  return (
    <table className="results">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Requested</th>
          <th scope="col">Requester</th>
          <th scope="col">Case</th>
          <th scope="col">What becomes searchable</th>
          <th scope="col">Band</th>
          <th scope="col">State</th>
          <th scope="col">Uses</th>
          <th scope="col">Expires</th>
          {action && <th scope="col">Decision</th>}
        </tr>
      </thead>
      <tbody>
        {list.map((a) => (
          <tr key={a.id} data-authority={a.id}>
            <td>{showTime(a.created_at)}</td>
            <td>{a.requester_name || a.requester}</td>
            <td>
              {a.reason.case_ref} · {purposeLabel(a.reason.purpose)}
              <div className="just">“{a.reason.justification}”</div>
            </td>
            <td>{a.searchable}</td>
            <td>
              <span className={`badge band-${a.band}`}>{a.band}</span>
            </td>
            <td>
              {a.state}
              {a.decided_by ? <div className="just">by {a.decided_by_name || a.decided_by}</div> : null}
              {a.decision_reason ? <div className="just">“{a.decision_reason}”</div> : null}
            </td>
            <td>
              {a.uses} / {a.max_uses}
            </td>
            <td>{showTime(a.expires_at ?? a.requested_expires_at)}</td>
            {action && <td>{action(a)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

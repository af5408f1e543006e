import { ApiError } from "../api/client";
import { loginHref } from "../session";

/** Shows an API refusal or error in the API's own words, with the deciding rule and the request id
 * to quote; announced to screen readers. */
export function ProblemMessage({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const e = error instanceof ApiError ? error : null;
  const text = e ? e.detail : error instanceof Error ? error.message : String(error);
  return (
    <div role="alert" className="problem">
      <strong>{title ?? (e?.status === 403 ? "Refused" : "Error")}:</strong> <span className="problem-detail">{text}</span>
      {e && e.problems.length > 0 && (
        <ul>
          {e.problems.map((p, i) => (
            <li key={i}>
              {p.field ? <b>{p.field}: </b> : null}
              {p.message}
            </li>
          ))}
        </ul>
      )}
      {e?.status === 401 && (
        <p>
          <a href={loginHref(window.location.pathname + window.location.search)}>Sign in again</a>
        </p>
      )}
      {e && (e.rule || e.requestId) && (
        <p className="problem-meta">
          {e.rule && <>Rule: <code>{e.rule}</code>. </>}
          {e.requestId && <>Request id: <code>{e.requestId}</code>.</>}
        </p>
      )}
    </div>
  );
}

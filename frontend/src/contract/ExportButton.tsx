// POST /api/v1/exports {"type", ...search body without cursor/limit} -> text/csv + X-Content-SHA256
// (the digest the audit outcome recorded before the file was sent).
import { useState } from "react";
import { ProblemMessage } from "../components/ProblemMessage";
import { useSession } from "../session";

/** Exports the whole search (every page) as CSV; the digest the audit log recorded is shown. */
export function ExportButton({ type, body }: { type: string; body: object }) {
  const s = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [digest, setDigest] = useState("");
  async function run() {
    setBusy(true);
    setError(null);
    try {
      // cursor and limit are refused: an export is always the whole result.
      const { cursor: _c, limit: _l, ...rest } = body as { cursor?: string; limit?: number };
      void _c;
      void _l;
      const r = await s.client.download("/api/v1/exports", { ...rest, type });
      setDigest(r.digest ?? "");
      const url = URL.createObjectURL(r.blob);
      const a = document.createElement("a");
      a.href = url;
      a.download = r.filename;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }
  return (
    <span className="export">
      <button type="button" onClick={() => void run()} disabled={busy}>
        {busy ? "Exporting…" : "Export CSV"}
      </button>
      {digest && (
        <span role="status">
          {" "}
          Exported; SHA-256 <code data-testid="export-digest">{digest}</code> recorded in the audit log.
        </span>
      )}
      <ProblemMessage error={error} title="Export failed" />
    </span>
  );
}

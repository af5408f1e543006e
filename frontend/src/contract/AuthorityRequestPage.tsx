// POST /api/v1/authorities. A refused search links here with its plate, window and type in the
// query (?vrm=&from=&to=&type=) so the request asks for exactly what was refused.
import { useState, type FormEvent } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import type { Authority, AuthorityRequest, SearchType } from "../api/contract";
import type { Reason } from "../api/types";
import { ProblemMessage } from "../components/ProblemMessage";
import { ReasonFields, emptyReason } from "../components/ReasonFields";
import { WindowFields, type Window } from "../components/WindowFields";
import { useSession } from "../session";
import { daysAgo, toLocalInput } from "../time";

const types: SearchType[] = ["exact", "partial", "misread", "journey", "area", "convoy", "multi_location"];
const split = (s: string) => s.split(/[\s,]+/).map((x) => x.trim().toUpperCase()).filter(Boolean);

/** A request for prior authority: what may be searched, when, for what, how often, until when. */
export function AuthorityRequestPage() {
  const s = useSession();
  const nav = useNavigate();
  const [params] = useSearchParams();
  const [now] = useState(() => new Date());
  const asked = (k: string) => {
    const v = params.get(k);
    const d = v ? new Date(v) : null;
    return d && !Number.isNaN(d.getTime()) ? toLocalInput(d) : null;
  };
  const askedType = params.get("type") as SearchType | null;
  const [reason, setReason] = useState<Reason>(s.lastReason ?? emptyReason);
  const [vrms, setVrms] = useState(params.get("vrm") ?? "");
  const [cameras, setCameras] = useState("");
  const [win, setWin] = useState<Window>({
    from: asked("from") ?? toLocalInput(daysAgo(180, now)),
    to: asked("to") ?? toLocalInput(daysAgo(91, now)),
  });
  const [chosen, setChosen] = useState<SearchType[]>(askedType && types.includes(askedType) ? [askedType] : ["exact", "journey"]);
  const [expires, setExpires] = useState(toLocalInput(new Date(now.getTime() + 7 * 86400e3)));
  const [maxUses, setMaxUses] = useState(5);
  const [holdId, setHoldId] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: AuthorityRequest = {
      reason: { ...reason, offence_code: reason.offence_code || undefined },
      scope: {
        vrms: split(vrms),
        cameras: split(cameras),
        from: new Date(win.from).toISOString(),
        to: new Date(win.to).toISOString(),
        search_types: chosen,
      },
      expires_at: new Date(expires).toISOString(),
      max_uses: maxUses,
    };
    if (holdId) body.hold_id = holdId;
    try {
      const a = await s.client.send<Authority>("POST", "/api/v1/authorities", body);
      nav(`/authorities?created=${encodeURIComponent(a.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  const toggle = (t: SearchType) => setChosen(chosen.includes(t) ? chosen.filter((x) => x !== t) : [...chosen, t]);
  return (
    <section aria-labelledby="ar-h">
      <h1 id="ar-h">Request prior authority</h1>
      <p>An authorising officer of rank Inspector or above, who is not you, must approve this before you can search aged data or run a sensitive search.</p>
      <form onSubmit={submit} aria-label="Request prior authority" className="card">
        <ReasonFields value={reason} onChange={setReason} idPrefix="ar" />
        <fieldset>
          <legend>Scope</legend>
          <div className="field wide">
            <label htmlFor="ar-vrms">VRMs (comma separated)</label>
            <input id="ar-vrms" value={vrms} onChange={(e) => setVrms(e.target.value)} />
          </div>
          <div className="field wide">
            <label htmlFor="ar-cams">Camera ids (comma separated, optional)</label>
            <input id="ar-cams" value={cameras} onChange={(e) => setCameras(e.target.value)} />
          </div>
          <fieldset className="kinds">
            <legend>Search types</legend>
            {types.map((t) => (
              <label key={t} className="radio">
                <input type="checkbox" checked={chosen.includes(t)} onChange={() => toggle(t)} /> {t.replace("_", "-")}
              </label>
            ))}
          </fieldset>
        </fieldset>
        <WindowFields value={win} onChange={setWin} idPrefix="ar" now={now} />
        <div className="field">
          <label htmlFor="ar-exp">Authority expires</label>
          <input id="ar-exp" type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor="ar-uses">Maximum uses</label>
          <input id="ar-uses" type="number" min={1} max={100} value={maxUses} onChange={(e) => setMaxUses(Number(e.target.value))} required />
        </div>
        <div className="field">
          <label htmlFor="ar-hold">Preservation hold id (data older than 12 months)</label>
          <input id="ar-hold" value={holdId} onChange={(e) => setHoldId(e.target.value)} />
        </div>
        <div className="actions">
          <button type="submit" disabled={busy}>
            Submit request
          </button>
        </div>
      </form>
      <ProblemMessage error={error} />
    </section>
  );
}

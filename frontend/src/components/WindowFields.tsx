import { BandNotice } from "./BandNotice";

export interface Window {
  from: string; // datetime-local values
  to: string;
}

/** The searched time window, with its data-age band shown live. */
export function WindowFields({ value, onChange, idPrefix, now }: { value: Window; onChange: (w: Window) => void; idPrefix: string; now: Date }) {
  return (
    <fieldset className="window">
      <legend>Time window</legend>
      <div className="field">
        <label htmlFor={`${idPrefix}-from`}>From</label>
        <input id={`${idPrefix}-from`} type="datetime-local" value={value.from} onChange={(e) => onChange({ ...value, from: e.target.value })} required />
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-to`}>To</label>
        <input id={`${idPrefix}-to`} type="datetime-local" value={value.to} onChange={(e) => onChange({ ...value, to: e.target.value })} required />
      </div>
      <BandNotice from={value.from ? new Date(value.from) : null} now={now} />
    </fieldset>
  );
}

import type { Reason } from "../api/types";

// The purposes of internal/authz DefaultPurposes (the portal has no endpoint listing configured
// purposes yet; a force that configures others will see them refused by name, shown plainly).
export const purposes: { value: string; label: string; oversight?: boolean }[] = [
  { value: "serious_crime", label: "Serious crime (robbery, burglary, drug supply, serious violence)" },
  { value: "major_crime", label: "Major crime (homicide, kidnap)" },
  { value: "counter_terrorism", label: "Counter-terrorism" },
  { value: "crime_investigation", label: "Investigation of any other offence" },
  { value: "stolen_vehicle", label: "Stolen vehicle" },
  { value: "road_traffic", label: "Road traffic offence or collision" },
  { value: "wanted_person", label: "Wanted person" },
  { value: "missing_person", label: "Missing or vulnerable person" },
  { value: "threat_to_life", label: "Threat to life" },
  { value: "intelligence_development", label: "Intelligence development" },
  { value: "audit_review", label: "Audit review (oversight)", oversight: true },
  { value: "data_protection", label: "Data protection request (oversight)", oversight: true },
];

export const emptyReason: Reason = { purpose: "", case_ref: "", offence_code: "", justification: "" };

/** The structured reason every search, record view and audit read needs. */
export function ReasonFields({
  value,
  onChange,
  idPrefix,
  oversight = false,
}: {
  value: Reason;
  onChange: (r: Reason) => void;
  idPrefix: string;
  oversight?: boolean;
}) {
  const set = (k: keyof Reason) => (e: { target: { value: string } }) => onChange({ ...value, [k]: e.target.value });
  const list = purposes.filter((p) => (oversight ? p.oversight : !p.oversight));
  return (
    <fieldset className="reason">
      <legend>Reason (recorded in the audit log)</legend>
      <div className="field">
        <label htmlFor={`${idPrefix}-purpose`}>Purpose</label>
        <select id={`${idPrefix}-purpose`} value={value.purpose ?? ""} onChange={set("purpose")} required>
          <option value="">Choose a purpose…</option>
          {list.map((p) => (
            <option key={p.value} value={p.value}>
              {p.label}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${idPrefix}-case`}>Case or crime reference</label>
        <input id={`${idPrefix}-case`} value={value.case_ref ?? ""} onChange={set("case_ref")} placeholder="MPS/12345/26" required />
      </div>
      {!oversight && (
        <div className="field">
          <label htmlFor={`${idPrefix}-offence`}>Offence code</label>
          <input id={`${idPrefix}-offence`} value={value.offence_code ?? ""} onChange={set("offence_code")} placeholder="TH68010" />
        </div>
      )}
      <div className="field wide">
        <label htmlFor={`${idPrefix}-just`}>Justification</label>
        <textarea
          id={`${idPrefix}-just`}
          value={value.justification ?? ""}
          onChange={set("justification")}
          rows={2}
          required
          placeholder="What you expect to learn and why this search is necessary and proportionate"
        />
      </div>
    </fieldset>
  );
}

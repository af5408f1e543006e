// Renders an answer whose exact shape the contract does not fix: the first array of objects found
// (hits, vehicles, candidates, ...) as a table of its plain fields.
type Row = Record<string, unknown>;

export function rowsOf(v: unknown): Row[] {
  if (Array.isArray(v)) return v.filter((x): x is Row => typeof x === "object" && x !== null);
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) {
      if (Array.isArray(x) && x.length > 0 && typeof x[0] === "object") return rowsOf(x);
    }
  }
  return [];
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(show).join(", ");
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function GenericResult({ value }: { value: unknown }) {
  const rows = rowsOf(value);
  if (rows.length === 0) return <p role="status">No results.</p>;
  const cols = [...new Set(rows.slice(0, 20).flatMap((r) => Object.keys(r)))].slice(0, 10);
  return (
    <table className="results">
      <caption>{rows.length} results</caption>
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c} scope="col">
              {c.replace(/_/g, " ")}
            </th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            {cols.map((c) => (
              <td key={c}>{show(r[c])}</td>
            ))}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

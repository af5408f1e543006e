import { bandOf, bandText } from "../bands";

/** The data-age band of the window as it is typed, announced politely as it changes. */
export function BandNotice({ from, now }: { from: Date | null; now: Date }) {
  if (!from) return <p className="band" aria-live="polite">Choose the start of the window to see its data-age band.</p>;
  const b = bandOf(from, now);
  return (
    <p className={`band band-${b}`} aria-live="polite" data-testid="band">
      <strong>{b === "band1" ? "Band 1" : b === "band2" ? "Band 2" : "Expired"}</strong> ({bandText[b]})
    </p>
  );
}

// The data-age bands as internal/authz/bands.go defines them (defaults: band 1 up to 90 days,
// band 2 up to 365 days, older expired). The window's oldest part, its start, decides. This is a
// preview for the form only: the server decides, and its answer is what counts.
export type WindowBand = "band1" | "band2" | "expired";

const day = 24 * 60 * 60 * 1000;
export const band1Days = 90;
export const retentionDays = 365;

export function bandOf(from: Date, now: Date): WindowBand {
  const age = now.getTime() - from.getTime();
  if (age <= band1Days * day) return "band1";
  if (age <= retentionDays * day) return "band2";
  return "expired";
}

export const bandText: Record<WindowBand, string> = {
  band1: "up to 90 days old: any investigator may search with a recorded reason.",
  band2:
    "91 days to 12 months old: extended-access investigators only, for serious crime, major crime or counter-terrorism, with prior authority.",
  expired: "older than 12 months: deleted by retention; searchable only under a preservation hold with an authority naming it.",
};

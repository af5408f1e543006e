// Names for the generated types of the authority, hold, retention and export endpoints, plus the
// few shapes api/openapi.yaml does not describe yet (cameras, area searches: the search-types
// branch adds them). Prefer generated types: the compiler then shows what moved when the spec does.
import type { components } from "./schema";

type S = components["schemas"];
export type Area = S["AuthorityArea"];
export type LatLon = [number, number];
export type SearchType = S["AuthoritySearchType"];
export type AuthorityScope = S["AuthorityScope"];
export type AuthorityScopeRequest = S["AuthorityScopeRequest"];
export type AuthorityState = S["Authority"]["state"];
export type Authority = S["Authority"];
export type AuthorityRequest = S["AuthorityRequest"];
export type AuthorityDecision = S["AuthorityDecision"];
export type Hold = S["Hold"];
export type RetentionRun = S["RetentionRun"];
export type ExportRequest = S["ExportRequest"];

// Not in api/openapi.yaml yet (GET /api/v1/cameras arrives with the search-types branch).
export interface Camera {
  id: string;
  name: string;
  road?: string;
  lat: number;
  lon: number;
}

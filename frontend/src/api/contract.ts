// Names for the generated types of the authority, hold, retention, export and analysis endpoints
// (the pages in src/contract/ use these, so the compiler shows what moved when api/openapi.yaml
// does).
import type { components } from "./schema";

type S = components["schemas"];
export type Area = S["Area"];
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

export type Camera = S["Camera"];
export type ConvoyRequest = S["ConvoyRequest"];
export type ConvoyResult = S["ConvoyResult"];
export type Companion = S["Companion"];
export type MultiLocationRequest = S["MultiLocationRequest"];
export type MultiLocationResult = S["MultiLocationResult"];
export type Place = S["Place"];
export type HistogramRequest = S["HistogramRequest"];
export type Histogram = S["Histogram"];

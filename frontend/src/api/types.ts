// Names for the generated API types (schema.d.ts is generated from api/openapi.yaml by `npm run gen`;
// never edit it by hand).
import type { components } from "./schema";

type S = components["schemas"];
export type Principal = S["Principal"];
export type Reason = S["Reason"];
export type SearchRequest = S["SearchRequest"];
export type SearchResult = S["SearchResult"];
export type Hit = S["Hit"];
export type Read = S["Read"];
export type JourneyRequest = S["JourneyRequest"];
export type Journey = S["Journey"];
export type Stop = S["Stop"];
export type TravelFlag = S["TravelFlag"];
export type Band = S["Band"];
export type AuditRecord = S["AuditRecord"];
export type AuditPage = S["AuditPage"];
export type Anomaly = S["Anomaly"];
export type Checkpoint = S["Checkpoint"];
export type TransparencyReport = S["TransparencyReport"];
export type APIKey = S["APIKey"];
export type Grant = S["Grant"];
export type User = S["User"];
export type Problem = S["Problem"];

export interface Me {
  principal: Principal;
  csrf_token?: string;
  csrf_header?: "X-CSRF-Token";
}

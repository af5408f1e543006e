// Types for endpoints that other branches are adding this session (/work/notes/api-contract.md),
// written by hand from the contract because api/openapi.yaml does not describe them yet. When
// those branches merge and add them to the document, replace these with aliases of the generated
// types (types.ts) and let the compiler show what differs.
import type { Reason } from "./types";

export type LatLon = [number, number];
export type Area = { polygon: LatLon[] } | { centre: LatLon; radius_m: number };

export type SearchType = "exact" | "partial" | "misread" | "journey" | "area" | "convoy" | "multi_location";

export interface AuthorityScope {
  vrms?: string[];
  cameras?: string[];
  area?: Area;
  from: string;
  to: string;
  search_types: SearchType[];
}

export type AuthorityState = "pending" | "approved" | "rejected" | "revoked" | "expired" | "exhausted";

export interface Authority {
  id: string;
  requester: string;
  state: AuthorityState;
  reason: Reason;
  scope: AuthorityScope;
  band: "band1" | "band2" | "expired";
  searchable: string;
  requested_expires_at?: string;
  expires_at?: string;
  max_uses: number;
  uses: number;
  hold_id?: string;
  created_at: string;
  decided_by?: string;
  decided_at?: string;
  decision_reason?: string;
}

export interface AuthorityRequest {
  reason: Reason;
  scope: AuthorityScope;
  expires_at: string;
  max_uses: number;
  hold_id?: string;
}

export interface Camera {
  id: string;
  name: string;
  road?: string;
  lat: number;
  lon: number;
}

export interface Hold {
  id: string;
  case_ref: string;
  reason?: Reason;
  scope: { vrms?: string[]; cameras?: string[]; from?: string; to?: string };
  review_at?: string;
  created_by?: string;
  created_at?: string;
  released_at?: string;
  released_by?: string;
  state?: string;
}

export interface RetentionRun {
  id: string;
  cutoff: string;
  deleted: number;
  held_kept: number;
  started_at: string;
  finished_at: string;
}

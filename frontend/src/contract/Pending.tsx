import { ApiError } from "../api/client";

/** True when the server has no such endpoint yet (another branch adds it). */
export function isMissingEndpoint(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.detail === "no such route";
}

export function Pending({ what }: { what: string }) {
  return (
    <p role="status" className="warn">
      Not available on this server yet: {what} (its API is not part of this build).
    </p>
  );
}

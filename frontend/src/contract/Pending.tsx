import { ApiError } from "../api/client";

/** True when the server has no such endpoint yet (another branch adds it). */
export function isMissingEndpoint(e: unknown): boolean {
  return e instanceof ApiError && e.status === 404 && e.detail === "no such route";
}

export function Pending({ what }: { what: string }) {
  return (
    <p role="status" className="warn">
      {what} is not available on this server yet (its API is not installed). Ask the ANPR manager.
    </p>
  );
}

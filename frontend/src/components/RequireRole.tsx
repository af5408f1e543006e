import type { ReactNode } from "react";
import { loginHref, useSession, type Role } from "../session";

/** Renders children only for a signed-in user with one of the roles; otherwise says plainly why not.
 * The server refuses regardless: this only spares the user a form they cannot use. */
export function RequireRole({ roles, children }: { roles: Role[]; children: ReactNode }) {
  const s = useSession();
  if (s.loading) return <p aria-busy="true">Loading…</p>;
  if (!s.user) {
    return (
      <p>
        You need to sign in for this page. <a href={loginHref(window.location.pathname + window.location.search)}>Sign in</a>
      </p>
    );
  }
  if (roles.length > 0 && !s.has(...roles)) {
    return (
      <p role="alert" className="problem">
        This page is for: {roles.join(", ")}. Your roles: {(s.user.roles ?? []).join(", ") || "none"}.
      </p>
    );
  }
  return <>{children}</>;
}

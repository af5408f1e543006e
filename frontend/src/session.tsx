// Who is signed in (GET /api/v1/me), the API client carrying their CSRF token, and the last reason
// they gave (kept in memory only, so a record view can reuse the search's reason).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { ApiError, newClient, type Client } from "./api/client";
import type { Me, Principal, Reason } from "./api/types";

export type Role = "investigator" | "extended_investigator" | "authorising_officer" | "auditor" | "anpr_manager";

export interface Session {
  client: Client;
  loading: boolean;
  user: Principal | null;
  error: ApiError | null;
  has(...roles: Role[]): boolean;
  lastReason: Reason | null;
  setLastReason(r: Reason): void;
  logout(): Promise<void>;
  reload(): void;
}

const Ctx = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const client = useMemo(newClient, []);
  const [loading, setLoading] = useState(true);
  const [user, setUser] = useState<Principal | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [lastReason, setLastReason] = useState<Reason | null>(null);
  const [gen, setGen] = useState(0);

  useEffect(() => {
    const ac = new AbortController();
    setLoading(true);
    client
      .get<Me>("/api/v1/me", ac.signal)
      .then((me) => {
        client.csrf = me.csrf_token ?? "";
        setUser(me.principal);
        setError(null);
      })
      .catch((e: unknown) => {
        if (e instanceof DOMException) return;
        setUser(null);
        // Not signed in is the ordinary state of a visitor, not an error to show.
        setError(e instanceof ApiError && e.status !== 401 ? e : null);
      })
      .finally(() => setLoading(false));
    return () => ac.abort();
  }, [client, gen]);

  const has = useCallback((...roles: Role[]) => roles.some((r) => user?.roles?.includes(r) ?? false), [user]);

  const logout = useCallback(async () => {
    const res = await client.send<{ idp_logout_url?: string }>("POST", "/auth/logout");
    client.csrf = "";
    setUser(null);
    setLastReason(null);
    window.location.assign(res?.idp_logout_url || "/");
  }, [client]);

  const value: Session = {
    client,
    loading,
    user,
    error,
    has,
    lastReason,
    setLastReason,
    logout,
    reload: () => setGen((g) => g + 1),
  };
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

export function loginHref(returnTo: string): string {
  return `/auth/login?return_to=${encodeURIComponent(returnTo)}`;
}

import { useState, type ReactNode } from "react";
import { NavLink } from "react-router-dom";
import { loginHref, useSession, type Role } from "../session";
import { ProblemMessage } from "./ProblemMessage";

interface Item {
  to: string;
  label: string;
  roles: Role[] | "public";
}

const items: Item[] = [
  { to: "/search", label: "Search", roles: ["investigator", "extended_investigator"] },
  { to: "/journey", label: "Journey", roles: ["investigator", "extended_investigator"] },
  { to: "/analysis", label: "Area & convoy", roles: ["investigator", "extended_investigator"] },
  { to: "/authorities", label: "My authorities", roles: ["investigator", "extended_investigator"] },
  { to: "/authorities/queue", label: "Approvals", roles: ["authorising_officer"] },
  { to: "/audit", label: "Audit", roles: ["auditor"] },
  { to: "/admin", label: "Admin", roles: ["anpr_manager"] },
  { to: "/transparency", label: "Transparency", roles: "public" },
];

/** Header with the navigation a user's roles allow, who is signed in, and sign in/out. */
export function Layout({ children }: { children: ReactNode }) {
  const s = useSession();
  const [logoutError, setLogoutError] = useState<unknown>(null);
  const visible = items.filter((i) => i.roles === "public" || s.has(...i.roles));
  return (
    <>
      <a href="#main" className="skip">
        Skip to content
      </a>
      <header className="top">
        <NavLink to="/" className="brand">
          <span className="plate-logo" aria-hidden="true">
            ANPR
          </span>{" "}
          Search portal
        </NavLink>
        <nav aria-label="Main">
          <ul>
            {visible.map((i) => (
              <li key={i.to}>
                <NavLink to={i.to} end={i.to === "/authorities"}>
                  {i.label}
                </NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          {s.user ? (
            <>
              <span data-testid="who">
                {s.user.name}
                {s.user.rank ? ` (${s.user.rank})` : ""} · {(s.user.roles ?? []).join(", ")}
              </span>
              <button
                type="button"
                className="secondary"
                onClick={() => {
                  setLogoutError(null);
                  s.logout().catch(setLogoutError);
                }}
              >
                Sign out
              </button>
            </>
          ) : (
            !s.loading && (
              <a className="button" href={loginHref(window.location.pathname + window.location.search)}>
                Sign in
              </a>
            )
          )}
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ProblemMessage error={s.error ?? logoutError} />
        {children}
      </main>
      <footer className="foot">Every search, view and export is recorded in a verifiable audit log.</footer>
    </>
  );
}

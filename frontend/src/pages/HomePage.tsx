import { Link } from "react-router-dom";
import { loginHref, useSession } from "../session";

/** Where each role starts. */
export function HomePage() {
  const s = useSession();
  if (s.loading) return <p aria-busy="true">Loading…</p>;
  if (!s.user) {
    return (
      <section aria-labelledby="home-h" className="card">
        <h1 id="home-h">ANPR search portal</h1>
        <p>Research historic number-plate reads lawfully: every search needs a specific reason, aged data needs prior authority, and every access is audited.</p>
        <p>
          <a className="button" href={loginHref("/")}>
            Sign in with your force account
          </a>
        </p>
        <p>
          Or read the public <Link to="/transparency">transparency report</Link>.
        </p>
      </section>
    );
  }
  const tasks: { show: boolean; to: string; text: string }[] = [
    { show: s.has("investigator", "extended_investigator"), to: "/search", text: "Search reads by plate (exact, partial, misread)" },
    { show: s.has("investigator", "extended_investigator"), to: "/journey", text: "Follow a plate's journey on the map" },
    { show: s.has("investigator", "extended_investigator"), to: "/authorities/new", text: "Request prior authority for aged data or sensitive searches" },
    { show: s.has("authorising_officer"), to: "/authorities/queue", text: "Decide authority requests" },
    { show: s.has("auditor"), to: "/audit", text: "Review the audit log" },
    { show: s.has("anpr_manager"), to: "/admin", text: "Manage grants, API keys, holds and retention" },
    { show: true, to: "/transparency", text: "Public transparency report" },
  ];
  return (
    <section aria-labelledby="home-h" className="card">
      <h1 id="home-h">Welcome, {s.user.name}</h1>
      <ul className="tasks">
        {tasks
          .filter((t) => t.show)
          .map((t) => (
            <li key={t.to}>
              <Link to={t.to}>{t.text}</Link>
            </li>
          ))}
      </ul>
    </section>
  );
}

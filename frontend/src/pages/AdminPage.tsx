import { useEffect, useState } from "react";
import type { User } from "../api/types";
import { APIKeysPanel } from "../components/APIKeysPanel";
import { GrantsPanel } from "../components/GrantsPanel";
import { ProblemMessage } from "../components/ProblemMessage";
import { DataRightsPanel } from "../contract/DataRightsPanel";
import { HoldsPanel } from "../contract/HoldsPanel";
import { RetentionPanel } from "../contract/RetentionPanel";
import { useSession } from "../session";
import { showTime } from "../time";

/** The ANPR manager's page: users, grants, API keys, preservation holds and retention runs. */
export function AdminPage() {
  const s = useSession();
  const [users, setUsers] = useState<User[]>([]);
  const [error, setError] = useState<unknown>(null);
  const names = new Map(users.map((u) => [u.subject, u.name]));
  useEffect(() => {
    s.client.get<{ users: User[] | null }>("/api/v1/admin/users").then((r) => setUsers(r.users ?? []), setError);
  }, [s.client]);
  return (
    <section aria-labelledby="admin-h">
      <h1 id="admin-h">Administration</h1>
      <section aria-labelledby="users-h" className="card">
        <h2 id="users-h">Users</h2>
        <ProblemMessage error={error} />
        <table className="results">
          <caption>People who have signed in</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">First sign-in</th>
              <th scope="col">Last sign-in</th>
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.subject}>
                <td>{u.name}</td>
                <td>{u.email ?? ""}</td>
                <td>{showTime(u.first_login_at)}</td>
                <td>{showTime(u.last_login_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <GrantsPanel users={users} />
      <APIKeysPanel />
      <HoldsPanel names={names} />
      <RetentionPanel names={names} />
      <DataRightsPanel />
    </section>
  );
}

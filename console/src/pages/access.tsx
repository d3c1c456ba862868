import { useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { isPermission, PERMISSIONS, type Permission } from '../permissions.ts';
import {
  ActionButton,
  BusyForm,
  ErrorBox,
  formatDate,
  messageOf,
  Page,
  StatusBadge,
  useAsync,
} from '../ui.tsx';

/** Users, teams and roles of the tenant (users:manage; roles need roles:manage). */
export function AccessPage({ me }: PageProps) {
  const roles = useAsync(
    () =>
      me.permissions.includes('roles:manage')
        ? call(api().GET('/roles', { params: { query: { limit: 100 } } }))
        : Promise.resolve(undefined),
    [],
  );
  const roleNames = roles.data?.items.map((r) => r.name) ?? [
    'admin',
    'developer',
    'operator',
    'viewer',
    'auditor',
  ];
  return (
    <Page title="Users, teams and roles">
      <Users roleNames={roleNames} />
      <Teams />
      {me.permissions.includes('roles:manage') && <Roles roles={roles} />}
    </Page>
  );
}

function Users({ roleNames }: { roleNames: string[] }) {
  const users = useAsync(() => call(api().GET('/users', { params: { query: { limit: 100 } } })), []);
  const [error, setError] = useState<string>();
  return (
    <>
      <h2>Users</h2>
      <ErrorBox error={users.error} />
      <table>
        <caption class="visually-hidden">Users</caption>
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Roles</th>
            <th scope="col">Teams</th>
            <th scope="col">Status</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.data?.items.map((u) => {
            // An erased person keeps only the opaque id (POST /users/{id}/erasure).
            const who = u.email ?? `erased user ${u.userId}`;
            return (
              <tr key={u.userId}>
                <td>{u.email ?? <em>erased ({u.userId})</em>}</td>
                <td>
                  <BusyForm
                    aria-label={`Roles of ${who}`}
                    onSubmit={async (event) => {
                      event.preventDefault();
                      setError(undefined);
                      const select = event.currentTarget.elements.namedItem('roles') as HTMLSelectElement;
                      const chosen = [...select.selectedOptions].map((o) => o.value);
                      try {
                        await call(
                          api().PATCH('/users/{userId}', {
                            params: { path: { userId: u.userId } },
                            body: { roles: chosen },
                          }),
                        );
                        users.reload();
                      } catch (e) {
                        setError(messageOf(e));
                      }
                    }}
                  >
                    <select
                      name="roles"
                      multiple
                      size={Math.min(6, new Set([...roleNames, ...u.roles]).size)}
                      aria-label={`Roles of ${who}`}
                      disabled={!u.email}
                    >
                      {[...new Set([...roleNames, ...u.roles])].map((r) => (
                        <option key={r} value={r} selected={u.roles.includes(r)}>
                          {r}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="secondary" disabled={!u.email}>
                      Save roles
                    </button>
                  </BusyForm>
                </td>
                <td>{u.teams.join(', ')}</td>
                <td>
                  <StatusBadge status={u.status} />
                </td>
                <td>
                  {u.email && (
                    <ActionButton
                      class="secondary"
                      onClick={async () => {
                        await call(
                          api().PATCH('/users/{userId}', {
                            params: { path: { userId: u.userId } },
                            body: { status: u.status === 'active' ? 'disabled' : 'active' },
                          }),
                        );
                        users.reload();
                      }}
                    >
                      {u.status === 'active' ? `Disable ${who}` : `Enable ${who}`}
                    </ActionButton>
                  )}
                  {u.email && (
                    <ActionButton
                      class="secondary"
                      confirm={`Erase ${who}? Their email and login are removed for good.`}
                      onClick={async () => {
                        await call(
                          api().POST('/users/{userId}/erasure', { params: { path: { userId: u.userId } } }),
                        );
                        users.reload();
                      }}
                    >
                      {`Erase ${who}`}
                    </ActionButton>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <BusyForm
        class="filters"
        aria-label="Invite a user"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(undefined);
          const formElement = event.currentTarget;
          const form = new FormData(formElement);
          try {
            await call(
              api().POST('/users', {
                body: {
                  email: String(form.get('email') ?? ''),
                  roles: [String(form.get('role') ?? 'viewer')],
                },
              }),
            );
            formElement.reset();
            users.reload();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        <label>
          Email
          <input name="email" type="email" required maxLength={254} />
        </label>
        <label>
          Role
          <select name="role">
            {roleNames.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Invite</button>
        <ErrorBox error={error} />
      </BusyForm>
    </>
  );
}

function Teams() {
  const teams = useAsync(() => call(api().GET('/teams', { params: { query: { limit: 100 } } })), []);
  const [error, setError] = useState<string>();
  return (
    <>
      <h2>Teams</h2>
      <ErrorBox error={teams.error} />
      <table>
        <caption class="visually-hidden">Teams</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Members</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {teams.data?.items.map((t) => (
            <tr key={t.teamId}>
              <td>{t.name}</td>
              <td>
                <code>{t.teamId}</code>
              </td>
              <td>{t.members?.length ?? 0}</td>
              <td>{formatDate(t.updatedAt)}</td>
              <td>
                <ActionButton
                  class="danger"
                  confirm={`Delete the team ${t.name}? Its members lose what it gave them.`}
                  onClick={async () => {
                    await call(api().DELETE('/teams/{teamId}', { params: { path: { teamId: t.teamId } } }));
                    teams.reload();
                  }}
                >
                  Delete {t.name}
                </ActionButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <BusyForm
        class="filters"
        aria-label="Create a team"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(undefined);
          const formElement = event.currentTarget;
          const form = new FormData(formElement);
          const description = String(form.get('description') ?? '');
          try {
            await call(
              api().POST('/teams', {
                body: { name: String(form.get('name') ?? ''), ...(description ? { description } : {}) },
              }),
            );
            formElement.reset();
            teams.reload();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        <label>
          Team name
          <input name="name" required maxLength={100} />
        </label>
        <label>
          Description
          <input name="description" maxLength={500} />
        </label>
        <button type="submit">Create team</button>
        <ErrorBox error={error} />
      </BusyForm>
    </>
  );
}

function Roles({
  roles,
}: {
  roles: ReturnType<
    typeof useAsync<
      | { items: { name: string; description?: string; permissions: string[]; builtIn?: boolean }[] }
      | undefined
    >
  >;
}) {
  const [error, setError] = useState<string>();
  return (
    <>
      <h2>Roles</h2>
      <ErrorBox error={roles.error} />
      <table>
        <caption class="visually-hidden">Roles</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Permissions</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {roles.data?.items.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td>{r.permissions.join(', ')}</td>
              <td>
                {!r.builtIn && (
                  <ActionButton
                    class="danger"
                    confirm={`Delete the role ${r.name}?`}
                    onClick={async () => {
                      await call(api().DELETE('/roles/{name}', { params: { path: { name: r.name } } }));
                      roles.reload();
                    }}
                  >
                    Delete {r.name}
                  </ActionButton>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <BusyForm
        class="filters"
        aria-label="Create a role"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(undefined);
          const formElement = event.currentTarget;
          const form = new FormData(formElement);
          const permissions = form.getAll('permissions').map(String).filter(isPermission) as Permission[];
          try {
            await call(api().POST('/roles', { body: { name: String(form.get('name') ?? ''), permissions } }));
            formElement.reset();
            roles.reload();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        <label>
          Role name
          <input name="name" required pattern="[a-z][a-z0-9\-]{1,39}" />
        </label>
        <fieldset class="scopes">
          <legend>Permissions</legend>
          {PERMISSIONS.map((p) => (
            <label key={p} class="check">
              <input type="checkbox" name="permissions" value={p} /> {p}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create role</button>
        <ErrorBox error={error} />
      </BusyForm>
    </>
  );
}

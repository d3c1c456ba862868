import { useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { ActionButton, BusyForm, ErrorBox, formatDate, messageOf, Page, useAsync } from '../ui.tsx';

/**
 * Secrets are write-only: the API lists names and metadata and never returns a value, and the
 * console never keeps one (the field is cleared as soon as the value is sent).
 */
export function SecretsPage(_props: PageProps) {
  const list = useAsync(() => call(api().GET('/secrets', { params: { query: { limit: 100 } } })), []);
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  return (
    <Page title="Secrets">
      <p class="muted">Values are write-only: they can be replaced or deleted, never read back.</p>
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">Secrets</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Version</th>
            <th scope="col">Roles that may bind it</th>
            <th scope="col">Updated</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((s) => (
            <tr key={s.name}>
              <td>
                <code>{s.name}</code>
                {s.description ? ` ${s.description}` : ''}
              </td>
              <td>{s.version}</td>
              <td>{s.allowedRoles.join(', ')}</td>
              <td>{formatDate(s.updatedAt)}</td>
              <td>
                <ActionButton
                  class="danger"
                  confirm={`Delete the secret ${s.name}? Steps that use it fail from now on.`}
                  onClick={async () => {
                    await call(api().DELETE('/secrets/{name}', { params: { path: { name: s.name } } }));
                    list.reload();
                  }}
                >
                  Delete {s.name}
                </ActionButton>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <BusyForm
        class="filters"
        aria-label="Write a secret"
        autoComplete="off"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(undefined);
          setSaved(undefined);
          const formElement = event.currentTarget;
          const form = new FormData(formElement);
          const name = String(form.get('name') ?? '');
          const roles = String(form.get('allowedRoles') ?? '')
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean);
          const description = String(form.get('description') ?? '');
          try {
            await call(
              api().PUT('/secrets/{name}', {
                params: { path: { name } },
                body: {
                  value: String(form.get('value') ?? ''),
                  ...(description ? { description } : {}),
                  ...(roles.length > 0 ? { allowedRoles: roles } : {}),
                },
              }),
            );
            formElement.reset();
            setSaved(`Secret ${name} saved.`);
            list.reload();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        <h2>Write a secret</h2>
        <label>
          Name
          <input name="name" required pattern="[A-Za-z0-9_.\-]{1,128}" />
        </label>
        <label>
          Value
          <input name="value" type="password" required maxLength={65536} autoComplete="new-password" />
        </label>
        <label>
          Description
          <input name="description" maxLength={500} />
        </label>
        <label>
          Roles that may bind it (comma-separated, default admin)
          <input name="allowedRoles" />
        </label>
        <button type="submit">Save secret</button>
        {saved && (
          <p class="notice" role="status">
            {saved}
          </p>
        )}
        <ErrorBox error={error} />
      </BusyForm>
    </Page>
  );
}

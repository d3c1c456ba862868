import { useState } from 'preact/hooks';
import { api, call } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { isPermission, type Permission } from '../permissions.ts';
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

/** A key's secret, shown exactly once: after creation or rotation, never read back from the API. */
function ShownOnce({ keyValue, onDismiss }: { keyValue: string; onDismiss: () => void }) {
  return (
    <div class="secret-once" role="status">
      <p>
        <strong>Copy this key now; it will not be shown again.</strong>
      </p>
      <p>
        <code data-testid="new-api-key">{keyValue}</code>
      </p>
      <button type="button" class="secondary" onClick={onDismiss}>
        I have copied it
      </button>
    </div>
  );
}

export function KeysPage({ me }: PageProps) {
  const list = useAsync(() => call(api().GET('/api-keys', { params: { query: { limit: 100 } } })), []);
  const [shown, setShown] = useState<string>();
  const [error, setError] = useState<string>();
  // A key's scopes are a subset of its creator's permissions: offer only those.
  const mine = me.permissions.filter(isPermission);
  return (
    <Page title="API keys">
      {shown && <ShownOnce keyValue={shown} onDismiss={() => setShown(undefined)} />}
      <BusyForm
        class="filters"
        aria-label="Create an API key"
        onSubmit={async (event) => {
          event.preventDefault();
          setError(undefined);
          const formElement = event.currentTarget;
          const form = new FormData(formElement);
          const scopes = form.getAll('scopes').map(String).filter(isPermission) as Permission[];
          const expires = String(form.get('expiresAt') ?? '');
          try {
            const created = await call(
              api().POST('/api-keys', {
                body: {
                  name: String(form.get('name') ?? ''),
                  scopes,
                  ...(expires ? { expiresAt: new Date(`${expires}T23:59:59Z`).toISOString() } : {}),
                },
              }),
            );
            setShown(created.key);
            formElement.reset();
            list.reload();
          } catch (e) {
            setError(messageOf(e));
          }
        }}
      >
        <h2>New key</h2>
        <label>
          Name
          <input name="name" required maxLength={100} />
        </label>
        <label>
          Expires (default 90 days, at most a year)
          <input name="expiresAt" type="date" />
        </label>
        <fieldset class="scopes">
          <legend>Scopes</legend>
          {mine.map((p) => (
            <label key={p} class="check">
              <input type="checkbox" name="scopes" value={p} /> {p}
            </label>
          ))}
        </fieldset>
        <button type="submit">Create key</button>
        <ErrorBox error={error} />
      </BusyForm>
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">API keys</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Status</th>
            <th scope="col">Scopes</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((k) => (
            <tr key={k.keyId}>
              <td>
                {k.name} <code>{k.keyId}</code>
              </td>
              <td>
                <StatusBadge status={k.status} />
                {k.previousValidUntil ? ` (old key valid until ${formatDate(k.previousValidUntil)})` : ''}
              </td>
              <td>{k.scopes.join(', ')}</td>
              <td>{formatDate(k.expiresAt)}</td>
              <td>{formatDate(k.lastUsedAt) || 'never'}</td>
              <td>
                {k.status === 'active' && (
                  <>
                    <ActionButton
                      class="secondary"
                      confirm={`Rotate ${k.name}? The key in use now stops working.`}
                      onClick={async () => {
                        const rotated = await call(
                          api().POST('/api-keys/{keyId}/rotate', {
                            params: { path: { keyId: k.keyId } },
                            body: {},
                          }),
                        );
                        setShown(rotated.key);
                        list.reload();
                      }}
                    >
                      Rotate {k.name}
                    </ActionButton>
                    <ActionButton
                      class="danger"
                      confirm={`Revoke ${k.name}? Anything using it is refused from now on.`}
                      onClick={async () => {
                        await call(
                          api().DELETE('/api-keys/{keyId}', { params: { path: { keyId: k.keyId } } }),
                        );
                        list.reload();
                      }}
                    >
                      Revoke {k.name}
                    </ActionButton>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

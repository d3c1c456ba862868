import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { navigate } from '../router.ts';
import { ActionButton, ErrorBox, formatDate, Json, Page, useAsync } from '../ui.tsx';

const FILTERS = ['actor', 'action', 'resource', 'from', 'to'] as const;

function toIso(local: string | null): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function Verdict({ verdict }: { verdict: Schemas['AuditVerdictOutput'] }) {
  return (
    <div class={verdict.ok ? 'secret-once' : 'notice'} role="status" data-testid="audit-verdict">
      <strong>
        {verdict.ok ? 'Verified: the trail matches its signed digests.' : 'Verification failed.'}
      </strong>
      <Json value={verdict} label="Verification result" />
    </div>
  );
}

export function AuditPage({ query }: PageProps) {
  const filters = Object.fromEntries(FILTERS.map((f) => [f, query.get(f) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const from = toIso(filters.from);
  const to = toIso(filters.to);
  const list = useAsync(
    () =>
      call(
        api().GET('/audit', {
          params: {
            query: {
              limit: 100,
              ...(filters.actor ? { actor: filters.actor } : {}),
              ...(filters.action ? { action: filters.action } : {}),
              ...(filters.resource ? { resource: filters.resource } : {}),
              ...(from ? { from } : {}),
              ...(to ? { to } : {}),
            },
          },
        }),
      ),
    [filters.actor, filters.action, filters.resource, from, to],
  );
  const [verdict, setVerdict] = useState<Schemas['AuditVerdictOutput']>();
  return (
    <Page title="Audit">
      <form
        class="filters"
        aria-label="Filter the audit trail"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const params = new URLSearchParams();
          for (const key of FILTERS) {
            const value = String(form.get(key) ?? '');
            if (value) params.set(key, value);
          }
          navigate(`/audit?${params.toString()}`);
        }}
      >
        <label>
          Actor id
          <input name="actor" defaultValue={filters.actor} maxLength={256} />
        </label>
        <label>
          Action
          <input
            name="action"
            defaultValue={filters.action}
            maxLength={128}
            placeholder="e.g. workflow.create"
          />
        </label>
        <label>
          Resource
          <input name="resource" defaultValue={filters.resource} maxLength={256} />
        </label>
        <label>
          From
          <input name="from" type="datetime-local" defaultValue={filters.from} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" defaultValue={filters.to} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ActionButton
        onClick={async () => {
          setVerdict(await call(api().GET('/audit/verify')));
        }}
      >
        Verify the trail
      </ActionButton>
      {verdict && <Verdict verdict={verdict} />}
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">Audit records</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((r) => (
            <tr key={r.id}>
              <td>{formatDate(r.at)}</td>
              <td>
                {r.actor.type} <code>{r.actor.id}</code>
              </td>
              <td>{r.action}</td>
              <td>
                {r.resourceType} <code>{r.resourceId}</code>
              </td>
              <td>{r.sourceIp}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

import { api, call, type Schemas } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { SchemaEditor } from '../editor.tsx';
import { href, navigate } from '../router.ts';
import { ActionButton, ErrorBox, formatDate, Json, Page, useAsync } from '../ui.tsx';

const AGENT_TEMPLATE = JSON.stringify(
  {
    name: 'triage',
    provider: 'scripted',
    model: 'scripted-1',
    script: [
      { match: 'refund', reply: '{"label":"refund"}', usage: { inputTokens: 120, outputTokens: 8 } },
      { reply: 'ok' },
    ],
  },
  null,
  2,
);

const TOOL_TEMPLATE = JSON.stringify(
  {
    name: 'clock',
    description: 'The current time',
    type: 'builtin',
    builtin: 'current_time',
    inputSchema: { type: 'object', properties: {} },
  },
  null,
  2,
);

/** Agents and tools: lists, the current definition, and forms checked by the API's own schemas. */
export function DefinitionsPage({ me, parts }: PageProps) {
  const kind = parts[1] === 'tools' ? 'tools' : 'agents';
  const id = parts[2];
  return (
    <Page title="Agents and tools">
      <nav aria-label="Definitions" class="tabs">
        <a class="tab" href="#/agents" aria-current={kind === 'agents' ? 'page' : undefined}>
          Agents
        </a>
        <a class="tab" href="#/agents/tools" aria-current={kind === 'tools' ? 'page' : undefined}>
          Tools
        </a>
      </nav>
      {id ? (
        <Detail kind={kind} id={id} me={me} />
      ) : kind === 'agents' ? (
        <Agents me={me} />
      ) : (
        <Tools me={me} />
      )}
    </Page>
  );
}

function Agents({ me }: { me: PageProps['me'] }) {
  const list = useAsync(() => call(api().GET('/agents', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">Agents</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Provider</th>
            <th scope="col">Model</th>
            <th scope="col">Version</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((a) => (
            <tr key={a.agentId}>
              <td>
                <a href={href('agents', 'agents', a.agentId)}>{a.name}</a>
              </td>
              <td>
                <code>{a.agentId}</code>
              </td>
              <td>{a.provider}</td>
              <td>{a.model}</td>
              <td>v{a.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {me.permissions.includes('agents:write') && (
        <>
          <h2>New agent</h2>
          <SchemaEditor
            schema="Agent"
            label="Agent definition"
            initial={AGENT_TEMPLATE}
            submitLabel="Create agent"
            onSubmit={async (body) => {
              const created = await call(api().POST('/agents', { body: body as Schemas['Agent'] }));
              navigate(`/agents/agents/${encodeURIComponent(created.agentId)}`);
            }}
          />
        </>
      )}
    </>
  );
}

function Tools({ me }: { me: PageProps['me'] }) {
  const list = useAsync(() => call(api().GET('/tools', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">Tools</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Version</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((t) => (
            <tr key={t.toolId}>
              <td>
                <a href={href('agents', 'tools', t.toolId)}>{t.name}</a>
              </td>
              <td>
                <code>{t.toolId}</code>
              </td>
              <td>v{t.version}</td>
              <td>{formatDate(t.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {me.permissions.includes('tools:write') && (
        <>
          <h2>New tool</h2>
          <SchemaEditor
            schema="Tool"
            label="Tool definition"
            initial={TOOL_TEMPLATE}
            submitLabel="Create tool"
            onSubmit={async (body) => {
              const created = await call(api().POST('/tools', { body: body as Schemas['Tool'] }));
              navigate(`/agents/tools/${encodeURIComponent(created.toolId)}`);
            }}
          />
        </>
      )}
    </>
  );
}

function Detail({ kind, id, me }: { kind: 'agents' | 'tools'; id: string; me: PageProps['me'] }) {
  const item = useAsync<{ name: string; version: number }>(
    () =>
      kind === 'agents'
        ? call(api().GET('/agents/{agentId}', { params: { path: { agentId: id } } }))
        : call(api().GET('/tools/{toolId}', { params: { path: { toolId: id } } })),
    [kind, id],
  );
  const d = item.data;
  const writable = me.permissions.includes(kind === 'agents' ? 'agents:write' : 'tools:write');
  const definition = d ? stripMeta(d) : undefined;
  return (
    <>
      <ErrorBox error={item.error} />
      {d && (
        <>
          <h2>
            {d.name} (v{d.version})
          </h2>
          <Json value={d} label="Definition" />
          {writable && definition && (
            <>
              <h2>New version</h2>
              <SchemaEditor
                schema={kind === 'agents' ? 'Agent' : 'Tool'}
                label="Definition of the next version"
                initial={JSON.stringify(definition, null, 2)}
                submitLabel="Save as new version"
                onSubmit={async (body) => {
                  if (kind === 'agents') {
                    await call(
                      api().PUT('/agents/{agentId}', {
                        params: { path: { agentId: id } },
                        body: body as Schemas['Agent'],
                      }),
                    );
                  } else {
                    await call(
                      api().PUT('/tools/{toolId}', {
                        params: { path: { toolId: id } },
                        body: body as Schemas['Tool'],
                      }),
                    );
                  }
                  item.reload();
                }}
              />
              <ActionButton
                class="danger"
                confirm={`Delete ${kind === 'agents' ? 'the agent' : 'the tool'} ${id}?`}
                onClick={async () => {
                  if (kind === 'agents')
                    await call(api().DELETE('/agents/{agentId}', { params: { path: { agentId: id } } }));
                  else await call(api().DELETE('/tools/{toolId}', { params: { path: { toolId: id } } }));
                  navigate(kind === 'agents' ? '/agents' : '/agents/tools');
                }}
              >
                Delete
              </ActionButton>
            </>
          )}
        </>
      )}
    </>
  );
}

/** The editable part of a definition: without ids, versions and who/when fields the API adds. */
function stripMeta(value: object): Record<string, unknown> {
  const meta = new Set([
    'agentId',
    'toolId',
    'version',
    'createdAt',
    'updatedAt',
    'createdBy',
    'updatedBy',
    'secretBindings',
  ]);
  return Object.fromEntries(Object.entries(value).filter(([k]) => !meta.has(k)));
}

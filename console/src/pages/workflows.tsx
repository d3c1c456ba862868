import { useState } from 'preact/hooks';
import { api, call, type Schemas } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { SchemaEditor } from '../editor.tsx';
import { href, navigate } from '../router.ts';
import { ActionButton, BusyForm, ErrorBox, formatDate, Json, messageOf, Page, useAsync } from '../ui.tsx';
import { WorkflowGraph } from './graph.tsx';

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
type Environment = (typeof ENVIRONMENTS)[number];

const TEMPLATE = JSON.stringify(
  {
    name: 'my-workflow',
    inputSchema: { type: 'object', required: ['text'], properties: { text: { type: 'string' } } },
    startAt: 'classify',
    steps: {
      classify: { type: 'agent', agentId: 'AGENT_ID', prompt: '{{input.text}}', next: 'done' },
      done: { type: 'succeed' },
    },
  },
  null,
  2,
);

export function WorkflowsPage(props: PageProps) {
  return props.parts[1] ? (
    <WorkflowDetail {...props} workflowId={props.parts[1]} />
  ) : (
    <WorkflowList {...props} />
  );
}

function WorkflowList({ me }: PageProps) {
  const list = useAsync(() => call(api().GET('/workflows', { params: { query: { limit: 100 } } })), []);
  const canWrite = me.permissions.includes('workflows:write');
  return (
    <Page title="Workflows">
      <ErrorBox error={list.error} />
      <table>
        <caption class="visually-hidden">Workflows</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Id</th>
            <th scope="col">Latest</th>
            <th scope="col">dev / staging / prod</th>
            <th scope="col">Updated</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((w) => (
            <tr key={w.workflowId}>
              <td>
                <a href={href('workflows', w.workflowId)}>{w.name}</a>
              </td>
              <td>
                <code>{w.workflowId}</code>
              </td>
              <td>v{w.version}</td>
              <td>
                {ENVIRONMENTS.map((e) => (w.environments?.[e] ? `v${w.environments[e]}` : '–')).join(' / ')}
              </td>
              <td>{formatDate(w.updatedAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {canWrite && (
        <>
          <h2>New workflow</h2>
          <SchemaEditor
            schema="Workflow"
            label="Workflow definition"
            initial={TEMPLATE}
            submitLabel="Create workflow"
            onSubmit={async (body) => {
              const created = await call(api().POST('/workflows', { body: body as Schemas['Workflow'] }));
              navigate(`/workflows/${encodeURIComponent(created.workflowId)}`);
            }}
          />
        </>
      )}
    </Page>
  );
}

function WorkflowDetail({ me, workflowId, query }: PageProps & { workflowId: string }) {
  const path = { workflowId };
  const workflow = useAsync(
    () => call(api().GET('/workflows/{workflowId}', { params: { path } })),
    [workflowId],
  );
  const versions = useAsync(
    () => call(api().GET('/workflows/{workflowId}/versions', { params: { path, query: { limit: 100 } } })),
    [workflowId],
  );
  const w = workflow.data;
  const shownVersion = Number(query.get('version') ?? '') || w?.version;
  const shown = versions.data?.items.find((v) => v.version === shownVersion);
  const reload = (): void => {
    workflow.reload();
    versions.reload();
  };
  const can = (p: string): boolean => me.permissions.includes(p);
  return (
    <Page title={w ? `Workflow ${w.name}` : `Workflow ${workflowId}`}>
      <ErrorBox error={workflow.error ?? versions.error} />
      {w && (
        <>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{w.workflowId}</code>
            </dd>
            <dt>Latest version</dt>
            <dd>v{w.version}</dd>
            {ENVIRONMENTS.map((e) => (
              <>
                <dt>{e}</dt>
                <dd data-testid={`env-${e}`}>
                  {w.environments?.[e] ? `v${w.environments[e]}` : 'not promoted'}
                </dd>
              </>
            ))}
          </dl>
          <p>
            <a href={`#/executions?workflowId=${encodeURIComponent(workflowId)}`}>
              Executions of this workflow
            </a>
          </p>
          <h2>Graph of v{shown?.version ?? w.version}</h2>
          <WorkflowGraph definition={shown?.definition ?? w} />
          {can('executions:start') && <StartExecution workflow={w} />}
          {can('workflows:promote') && <Promote workflowId={workflowId} latest={w.version} onDone={reload} />}
          <h2>Versions</h2>
          <table>
            <caption class="visually-hidden">Versions</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created</th>
                <th scope="col">By</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {versions.data?.items.map((v) => (
                <tr key={v.version}>
                  <td>
                    <a href={`#/workflows/${encodeURIComponent(workflowId)}?version=${v.version}`}>
                      v{v.version}
                    </a>
                    {v.rolledBackFrom ? ` (rollback to v${v.rolledBackFrom})` : ''}
                  </td>
                  <td>{formatDate(v.createdAt)}</td>
                  <td>{v.createdBy}</td>
                  <td>
                    {can('workflows:write') && v.version !== w.version && (
                      <ActionButton
                        onClick={async () => {
                          await call(
                            api().POST('/workflows/{workflowId}/rollback', {
                              params: { path },
                              body: { version: v.version },
                            }),
                          );
                          reload();
                        }}
                      >
                        Roll back to v{v.version}
                      </ActionButton>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {(versions.data?.items.length ?? 0) > 1 && <Diff workflowId={workflowId} latest={w.version} />}
          {can('workflows:write') && (
            <>
              <h2>New version</h2>
              <SchemaEditor
                schema="Workflow"
                label="Definition of the next version"
                initial={JSON.stringify(
                  {
                    name: w.name,
                    ...(w.description ? { description: w.description } : {}),
                    ...(w.inputSchema ? { inputSchema: w.inputSchema } : {}),
                    startAt: w.startAt,
                    steps: w.steps,
                    ...(w.timeoutSeconds ? { timeoutSeconds: w.timeoutSeconds } : {}),
                  },
                  null,
                  2,
                )}
                submitLabel="Save as new version"
                onSubmit={async (body) => {
                  await call(
                    api().PUT('/workflows/{workflowId}', {
                      params: { path },
                      body: body as Schemas['Workflow'],
                    }),
                  );
                  reload();
                }}
              />
            </>
          )}
        </>
      )}
    </Page>
  );
}

function Diff({ workflowId, latest }: { workflowId: string; latest: number }) {
  const [from, setFrom] = useState(Math.max(1, latest - 1));
  const [to, setTo] = useState(latest);
  const diff = useAsync(
    () =>
      call(
        api().GET('/workflows/{workflowId}/diff', { params: { path: { workflowId }, query: { from, to } } }),
      ),
    [workflowId, from, to],
  );
  const versions = Array.from({ length: latest }, (_, i) => i + 1);
  return (
    <>
      <h2>Diff</h2>
      <div class="filters">
        <label>
          From version
          <select value={from} onChange={(e) => setFrom(Number(e.currentTarget.value))}>
            {versions.map((v) => (
              <option key={v} value={v}>
                v{v}
              </option>
            ))}
          </select>
        </label>
        <label>
          To version
          <select value={to} onChange={(e) => setTo(Number(e.currentTarget.value))}>
            {versions.map((v) => (
              <option key={v} value={v}>
                v{v}
              </option>
            ))}
          </select>
        </label>
      </div>
      <ErrorBox error={diff.error} />
      {diff.data && (
        <ul class="diff" data-testid="workflow-diff">
          {diff.data.added.map((s) => (
            <li key={`a${s}`} class="added">
              + step {s}
            </li>
          ))}
          {diff.data.removed.map((s) => (
            <li key={`r${s}`} class="removed">
              − step {s}
            </li>
          ))}
          {diff.data.changed.map((c) => (
            <li key={`c${c.stepId}`} class="changed">
              ~ step {c.stepId}: {c.fields.join(', ')}
            </li>
          ))}
          {diff.data.topLevel.map((t) => (
            <li key={`t${t.field}`} class="changed">
              ~ {t.field}
            </li>
          ))}
          {diff.data.added.length +
            diff.data.removed.length +
            diff.data.changed.length +
            diff.data.topLevel.length ===
            0 && <li>No differences.</li>}
        </ul>
      )}
    </>
  );
}

function Promote({ workflowId, latest, onDone }: { workflowId: string; latest: number; onDone: () => void }) {
  const [version, setVersion] = useState(latest);
  const [environment, setEnvironment] = useState<Environment>('dev');
  const [result, setResult] = useState<string>();
  const [error, setError] = useState<string>();
  return (
    <BusyForm
      class="filters"
      aria-label="Promote"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(undefined);
        setResult(undefined);
        try {
          const answer = await call(
            api().POST('/workflows/{workflowId}/promotions', {
              params: { path: { workflowId } },
              body: { version, environment },
            }),
          );
          setResult(
            answer.status === 'applied'
              ? `v${version} now runs in ${environment}.`
              : `Promotion to ${environment} waits for approval by someone else (approval ${answer.approval.approvalId}).`,
          );
          onDone();
        } catch (e) {
          setError(messageOf(e));
        }
      }}
    >
      <h2>Promote</h2>
      <label>
        Version
        <input
          type="number"
          min={1}
          max={latest}
          value={version}
          onInput={(e) => setVersion(Number(e.currentTarget.value))}
        />
      </label>
      <label>
        Environment
        <select value={environment} onChange={(e) => setEnvironment(e.currentTarget.value as Environment)}>
          {ENVIRONMENTS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Promote</button>
      {result && (
        <p class="notice" role="status">
          {result}
        </p>
      )}
      <ErrorBox error={error} />
    </BusyForm>
  );
}

function StartExecution({ workflow }: { workflow: Schemas['WorkflowDetailOutput'] }) {
  const [input, setInput] = useState('{\n  "text": ""\n}');
  const [key, setKey] = useState('');
  const [environment, setEnvironment] = useState<Environment>('dev');
  const [error, setError] = useState<string>();
  return (
    <BusyForm
      class="editor"
      aria-label="Start an execution"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(undefined);
        let parsed: unknown;
        try {
          parsed = JSON.parse(input);
        } catch (e) {
          setError(`input: not valid JSON (${messageOf(e)})`);
          return;
        }
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          setError('input: must be a JSON object');
          return;
        }
        try {
          const started = await call(
            api().POST('/workflows/{workflowId}/executions', {
              params: {
                path: { workflowId: workflow.workflowId },
                header: key ? { 'Idempotency-Key': key } : {},
              },
              body: { input: parsed as Record<string, unknown>, environment },
            }),
          );
          navigate(`/executions/${encodeURIComponent(started.executionId)}`);
        } catch (e) {
          setError(messageOf(e));
        }
      }}
    >
      <h2>Start an execution</h2>
      {workflow.inputSchema && (
        <details>
          <summary>Input schema</summary>
          <Json value={workflow.inputSchema} label="Input schema" />
        </details>
      )}
      <label for="execution-input">Input (JSON object)</label>
      <textarea
        id="execution-input"
        rows={5}
        spellcheck={false}
        value={input}
        onInput={(e) => setInput(e.currentTarget.value)}
      />
      <label>
        Idempotency key (optional)
        <input value={key} maxLength={1024} onInput={(e) => setKey(e.currentTarget.value)} />
      </label>
      <label>
        Environment
        <select value={environment} onChange={(e) => setEnvironment(e.currentTarget.value as Environment)}>
          {ENVIRONMENTS.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
      </label>
      <button type="submit">Start</button>
      <ErrorBox error={error} />
    </BusyForm>
  );
}

import { api, call, type Schemas } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { href, navigate } from '../router.ts';
import {
  ActionButton,
  ErrorBox,
  formatDate,
  formatDuration,
  formatUsd,
  Json,
  Page,
  StatusBadge,
  useAsync,
} from '../ui.tsx';

const STATUSES = ['RUNNING', 'WAITING_APPROVAL', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT'] as const;
type Status = (typeof STATUSES)[number];
const FINAL = new Set<string>(['SUCCEEDED', 'FAILED', 'CANCELLED', 'TIMED_OUT']);
/** Live status: the list and a running execution are read again this often. */
const POLL_MS = 2_000;

function isStatus(value: string | null): value is Status {
  return value !== null && (STATUSES as readonly string[]).includes(value);
}

/** `datetime-local` value (local time, no zone) → ISO 8601 with zone, as the API wants. */
function toIso(local: string | null): string | undefined {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

export function ExecutionsPage({ query }: PageProps) {
  const workflowId = query.get('workflowId') || undefined;
  const statusParam = query.get('status');
  const status = isStatus(statusParam) ? statusParam : undefined;
  const from = toIso(query.get('from'));
  const to = toIso(query.get('to'));
  const list = useAsync(
    () =>
      call(
        api().GET('/executions', {
          params: {
            query: {
              limit: 50,
              ...(workflowId ? { workflowId } : {}),
              ...(status ? { status } : {}),
              ...(from ? { from } : {}),
              ...(to ? { to } : {}),
            },
          },
        }),
      ),
    [workflowId, status, from, to],
    POLL_MS,
  );
  return (
    <Page title="Executions">
      <form
        class="filters"
        aria-label="Filter executions"
        onSubmit={(event) => {
          event.preventDefault();
          const form = new FormData(event.currentTarget);
          const params = new URLSearchParams();
          for (const key of ['workflowId', 'status', 'from', 'to']) {
            const value = String(form.get(key) ?? '');
            if (value) params.set(key, value);
          }
          navigate(`/executions?${params.toString()}`);
        }}
      >
        <label>
          Workflow id
          <input
            name="workflowId"
            defaultValue={workflowId ?? ''}
            maxLength={128}
            pattern="[A-Za-z0-9_\-]+"
          />
        </label>
        <label>
          Status
          <select name="status" defaultValue={status ?? ''}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          From
          <input name="from" type="datetime-local" defaultValue={query.get('from') ?? ''} />
        </label>
        <label>
          To
          <input name="to" type="datetime-local" defaultValue={query.get('to') ?? ''} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <ErrorBox error={list.error} />
      <p class="muted" aria-live="polite">
        {list.data ? `${list.data.items.length} executions, refreshed every ${POLL_MS / 1000} s` : 'Loading…'}
      </p>
      <table>
        <caption class="visually-hidden">Executions</caption>
        <thead>
          <tr>
            <th scope="col">Execution</th>
            <th scope="col">Workflow</th>
            <th scope="col">Status</th>
            <th scope="col">Started</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {list.data?.items.map((e) => (
            <tr key={e.executionId}>
              <td>
                <a href={href('executions', e.executionId)}>{e.executionId}</a>
              </td>
              <td>
                {e.workflowId} v{e.workflowVersion} ({e.environment})
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td>{formatDate(e.startedAt)}</td>
              <td>{e.usage.inputTokens + e.usage.outputTokens}</td>
              <td>{formatUsd(e.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Page>
  );
}

type Step = Schemas['ExecutionStepOutput'];

function stepDuration(step: Step): number | undefined {
  if (step.durationMs !== undefined) return step.durationMs;
  if (!step.endedAt) return undefined;
  return new Date(step.endedAt).getTime() - new Date(step.startedAt).getTime();
}

/** The steps on one time axis: each bar starts and ends where the step did, relative to the run. */
function Timeline({ detail }: { detail: Schemas['ExecutionDetailOutput'] }) {
  const start = new Date(detail.startedAt).getTime();
  const end = Math.max(
    detail.endedAt ? new Date(detail.endedAt).getTime() : Date.now(),
    ...detail.steps.map((s) => (s.endedAt ? new Date(s.endedAt).getTime() : Date.now())),
  );
  const span = Math.max(1, end - start);
  return (
    <ol class="timeline" aria-label="Steps">
      {detail.steps.map((step) => {
        const offset = ((new Date(step.startedAt).getTime() - start) / span) * 100;
        const width = Math.max(
          0.5,
          ((stepDuration(step) ?? end - new Date(step.startedAt).getTime()) / span) * 100,
        );
        return (
          <li key={`${step.stepKey}-${step.startedAt}`} class="timeline-step">
            <div class="timeline-head">
              <strong>{step.stepKey}</strong> <span class="muted">{step.type}</span>{' '}
              <StatusBadge status={step.status} />
              <span>{formatDuration(stepDuration(step))}</span>
              {step.usage && (
                <span>
                  {step.usage.inputTokens} in / {step.usage.outputTokens} out tokens
                </span>
              )}
              {step.costUsd !== undefined && <span>{formatUsd(step.costUsd)}</span>}
              {step.attempts > 1 && <span>{step.attempts} attempts</span>}
            </div>
            <div class="bar-track" aria-hidden="true">
              <div
                class={`bar bar-${step.status.toLowerCase()}`}
                style={{ left: `${offset}%`, width: `${width}%` }}
              />
            </div>
            {step.error && <ErrorBox error={`${step.error.error}: ${step.error.cause}`} />}
            {step.output !== undefined && (
              <details>
                <summary>Output of {step.stepKey}</summary>
                <Json value={step.output} label={`Output of ${step.stepKey}`} />
              </details>
            )}
          </li>
        );
      })}
    </ol>
  );
}

export function ExecutionDetailPage({ parts, me }: PageProps) {
  const executionId = parts[1] ?? '';
  const detail = useAsync(
    () => call(api().GET('/executions/{executionId}', { params: { path: { executionId } } })),
    [executionId],
    POLL_MS,
  );
  const d = detail.data;
  const running = d !== undefined && !FINAL.has(d.status);
  return (
    <Page title={`Execution ${executionId}`}>
      <ErrorBox error={detail.error} />
      {d && (
        <>
          <dl class="facts">
            <dt>Status</dt>
            <dd data-testid="execution-status">
              <StatusBadge status={d.status} />
            </dd>
            <dt>Workflow</dt>
            <dd>
              <a href={href('workflows', d.workflowId)}>{d.workflowId}</a> v{d.workflowVersion} (
              {d.environment})
            </dd>
            <dt>Started</dt>
            <dd>
              {formatDate(d.startedAt)} by {d.startedBy}
            </dd>
            <dt>Duration</dt>
            <dd>
              {d.endedAt
                ? formatDuration(new Date(d.endedAt).getTime() - new Date(d.startedAt).getTime())
                : 'running'}
            </dd>
            <dt>Tokens</dt>
            <dd>
              {d.usage.inputTokens} in / {d.usage.outputTokens} out
            </dd>
            <dt>Cost</dt>
            <dd data-testid="execution-cost">{formatUsd(d.costUsd)}</dd>
          </dl>
          {running && me.permissions.includes('executions:cancel') && (
            <ActionButton
              class="danger"
              confirm="Cancel this execution? It stops where it is and cannot be resumed."
              onClick={async () => {
                await call(
                  api().POST('/executions/{executionId}/cancel', { params: { path: { executionId } } }),
                );
                detail.reload();
              }}
            >
              Cancel execution
            </ActionButton>
          )}
          {d.error && <ErrorBox error={`${d.error.error}: ${d.error.cause}`} />}
          <h2>Timeline</h2>
          <Timeline detail={d} />
          <h2>Input</h2>
          <Json value={d.input} label="Input" />
          <h2>Output</h2>
          <Json value={d.output} label="Output" />
        </>
      )}
    </Page>
  );
}

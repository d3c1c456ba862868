import 'uplot/dist/uPlot.min.css';
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { ApiError, api, call, type Schemas } from '../api.ts';
import type { PageProps } from '../app.tsx';
import { BusyForm, ErrorBox, formatUsd, messageOf, Page, useAsync } from '../ui.tsx';

/**
 * Usage and cost of a month: totals from GET /usage (by workflow, agent and team), the cost by day
 * summed from the month's executions (GET /executions, the public API has no per-day usage), and
 * the budget with its alert thresholds (GET /budget). uPlot draws; every chart has its table.
 */

type Usage = Schemas['UsageOutput'];
type Row = Usage['byWorkflow'][number];

const MICROS = 1_000_000;
/** At most this many executions are read for the by-day chart (10 pages of 100). */
const MAX_EXECUTION_PAGES = 10;

function monthRange(month: string): { from: string; to: string } {
  const [y, m] = month.split('-').map(Number);
  const start = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, 1));
  const end = new Date(Date.UTC(y ?? 1970, m ?? 1, 1) - 1);
  return { from: start.toISOString(), to: end.toISOString() };
}

/** Cost per UTC day of the month, in micro-USD, from the executions that started that day. */
async function costByDay(month: string): Promise<{ days: number[]; micros: number[]; complete: boolean }> {
  const { from, to } = monthRange(month);
  const daysInMonth = new Date(to).getUTCDate();
  const micros = new Array<number>(daysInMonth).fill(0);
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call(
      api().GET('/executions', {
        params: { query: { from, to, limit: 100, ...(cursor ? { cursor } : {}) } },
      }),
    );
    for (const e of page.items) {
      const day = new Date(e.startedAt).getUTCDate();
      micros[day - 1] = (micros[day - 1] ?? 0) + e.costMicros;
    }
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor && pages < MAX_EXECUTION_PAGES);
  const days = micros.map(
    (_, i) => Date.UTC(new Date(from).getUTCFullYear(), new Date(from).getUTCMonth(), i + 1) / 1000,
  );
  return { days, micros, complete: cursor === undefined };
}

function Chart({
  options,
  data,
}: {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const width = Math.max(320, Math.min(640, ref.current.clientWidth || 560));
    const plot = new uPlot({ ...options, width, height: 240 }, data, ref.current);
    return () => plot.destroy();
  }, [options, data]);
  return <div ref={ref} aria-hidden="true" />;
}

function BarChart({ title, rows, testId }: { title: string; rows: Row[]; testId: string }) {
  const labels = rows.map((r) => r.id);
  const data: uPlot.AlignedData = [rows.map((_, i) => i), rows.map((r) => r.costMicros / MICROS)];
  const options: Omit<uPlot.Options, 'width' | 'height'> = {
    scales: { x: { time: false, range: [-0.5, Math.max(0.5, rows.length - 0.5)] } },
    axes: [
      { values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? (labels[t] ?? '') : '')) },
      { values: (_u, ticks) => ticks.map((t) => `$${t}`) },
    ],
    series: [
      {},
      { label: 'Cost (USD)', fill: '#0b57d0', stroke: '#0b57d0', paths: uPlot.paths.bars?.({ size: [0.6] }) },
    ],
    legend: { show: false },
  };
  return (
    <div class="chart">
      <h2>{title}</h2>
      {rows.length > 0 ? <Chart options={options} data={data} /> : <p class="muted">No usage yet.</p>}
      <table data-testid={testId}>
        <caption class="visually-hidden">{title}</caption>
        <thead>
          <tr>
            <th scope="col">Id</th>
            <th scope="col">Executions</th>
            <th scope="col">Tokens in / out</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td>
                <code>{r.id}</code>
              </td>
              <td>{r.executions}</td>
              <td>
                {r.inputTokens} / {r.outputTokens}
              </td>
              <td>{formatUsd(r.costUsd)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Budget = {
  alertsFired?: number[];
  monthlyLimitUsd?: string;
  alertThresholds?: number[];
  spentUsd: string;
  percentUsed?: number | null;
  hardStop?: boolean;
  configured: boolean;
};

function ByDay({ month, budget }: { month: string; budget: Budget | undefined }) {
  const byDay = useAsync(() => costByDay(month), [month]);
  if (byDay.error) return <ErrorBox error={byDay.error} />;
  if (!byDay.data) return <p class="muted">Loading the month's executions…</p>;
  const { days, micros, complete } = byDay.data;
  const cumulative: number[] = [];
  for (const m of micros) cumulative.push((cumulative.at(-1) ?? 0) + m / MICROS);
  const limit = budget?.configured && budget.monthlyLimitUsd ? Number(budget.monthlyLimitUsd) : undefined;
  const series: uPlot.Series[] = [
    {},
    {
      label: 'Cost that day (USD)',
      stroke: '#0b57d0',
      fill: 'rgba(11,87,208,0.15)',
      paths: uPlot.paths.bars?.({ size: [0.7] }),
    },
    { label: 'Month to date (USD)', stroke: '#1a7f37', width: 2 },
  ];
  const data: (number | null)[][] = [days, micros.map((m) => m / MICROS), cumulative];
  if (limit !== undefined) {
    series.push({ label: 'Budget', stroke: '#a4161a', dash: [6, 4] });
    data.push(days.map(() => limit));
    for (const t of budget?.alertThresholds ?? []) {
      series.push({ label: `${t} % alert`, stroke: '#bf8700', dash: [2, 4] });
      data.push(days.map(() => (limit * t) / 100));
    }
  }
  return (
    <div class="chart">
      <h2>Cost by day</h2>
      <Chart options={{ series, scales: { x: { time: true } } }} data={data as uPlot.AlignedData} />
      {!complete && (
        <p class="muted">Only the month's first {MAX_EXECUTION_PAGES * 100} executions are charted.</p>
      )}
      <details>
        <summary>Cost by day as a table</summary>
        <table>
          <caption class="visually-hidden">Cost by day</caption>
          <thead>
            <tr>
              <th scope="col">Day</th>
              <th scope="col">Cost (USD)</th>
            </tr>
          </thead>
          <tbody>
            {micros.map((m, i) =>
              m > 0 ? (
                <tr key={days[i]}>
                  <td>{new Date((days[i] ?? 0) * 1000).toISOString().slice(0, 10)}</td>
                  <td>{(m / MICROS).toFixed(6)}</td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </details>
    </div>
  );
}

function BudgetMeter({ budget }: { budget: Budget }) {
  if (!budget.configured || !budget.monthlyLimitUsd)
    return <p>No monthly budget is set (spent {formatUsd(budget.spentUsd)}).</p>;
  const percent = Math.min(
    100,
    budget.percentUsed ?? (Number(budget.spentUsd) / Number(budget.monthlyLimitUsd)) * 100,
  );
  return (
    <>
      <p>
        Spent {formatUsd(budget.spentUsd)} of {formatUsd(budget.monthlyLimitUsd)} ({percent.toFixed(1)} %)
        {budget.hardStop ? '; executions stop at the limit' : '; alerts only'}
      </p>
      <p data-testid="budget-thresholds">
        Alerts at {(budget.alertThresholds ?? []).map((t) => `${t} %`).join(', ') || 'no threshold'}
        {budget.alertsFired && budget.alertsFired.length > 0
          ? ` (fired: ${budget.alertsFired.join(', ')} %)`
          : ''}
      </p>
      {/* The same facts as the text above, drawn: the share spent and where each alert fires. */}
      <div class="meter" aria-hidden="true">
        <div class="meter-fill" style={{ width: `${percent}%` }} />
        {(budget.alertThresholds ?? []).map((t) => (
          <div key={t} class="meter-threshold" style={{ left: `${t}%` }}>
            <span>{t} %</span>
          </div>
        ))}
      </div>
    </>
  );
}

function BudgetForm({ budget, onSaved }: { budget: Budget; onSaved: () => void }) {
  const [error, setError] = useState<string>();
  return (
    <BusyForm
      class="filters"
      aria-label="Set the budget"
      onSubmit={async (event) => {
        event.preventDefault();
        setError(undefined);
        const form = new FormData(event.currentTarget);
        const thresholds = String(form.get('alertThresholds') ?? '')
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean)
          .map(Number);
        try {
          await call(
            api().PUT('/budget', {
              body: {
                monthlyLimitUsd: String(form.get('monthlyLimitUsd') ?? ''),
                alertThresholds: thresholds,
                hardStop: form.get('hardStop') === 'on',
              },
            }),
          );
          onSaved();
        } catch (e) {
          setError(messageOf(e));
        }
      }}
    >
      <label>
        Monthly limit (USD)
        <input
          name="monthlyLimitUsd"
          required
          inputMode="decimal"
          maxLength={16}
          defaultValue={budget.monthlyLimitUsd ?? ''}
        />
      </label>
      <label>
        Alert thresholds (%, comma-separated)
        <input name="alertThresholds" defaultValue={(budget.alertThresholds ?? [50, 75, 90]).join(', ')} />
      </label>
      <label class="check">
        <input type="checkbox" name="hardStop" defaultChecked={budget.hardStop ?? false} /> Stop executions at
        the limit
      </label>
      <button type="submit">Save budget</button>
      <ErrorBox error={error} />
    </BusyForm>
  );
}

export function UsagePage({ query, me }: PageProps) {
  const month = /^\d{4}-\d{2}$/.test(query.get('month') ?? '')
    ? (query.get('month') as string)
    : new Date().toISOString().slice(0, 7);
  const usage = useAsync(() => call(api().GET('/usage', { params: { query: { month } } })), [month]);
  const budget = useAsync(async (): Promise<Budget | undefined> => {
    if (!me.permissions.includes('budgets:manage')) return undefined;
    try {
      return await call(api().GET('/budget'));
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) return undefined;
      throw e;
    }
  }, []);
  const u = usage.data;
  return (
    <Page title="Usage and cost">
      <form class="filters" aria-label="Month" onSubmit={(e) => e.preventDefault()}>
        <label>
          Month
          <input
            type="month"
            value={month}
            onChange={(e) => {
              window.location.hash = `/usage?month=${e.currentTarget.value}`;
            }}
          />
        </label>
      </form>
      <ErrorBox error={usage.error ?? budget.error} />
      {u && (
        <dl class="facts">
          <dt>Executions</dt>
          <dd data-testid="usage-total-executions">{u.total.executions}</dd>
          <dt>Tokens in / out</dt>
          <dd>
            {u.total.inputTokens} / {u.total.outputTokens}
          </dd>
          <dt>Cost</dt>
          <dd data-testid="usage-total-cost">{formatUsd(u.total.costUsd)}</dd>
          <dt>Plan</dt>
          <dd>
            {u.plan.name}
            {u.plan.executionsPerMonth ? ` (${u.plan.executionsPerMonth} executions a month)` : ''}
          </dd>
        </dl>
      )}
      <h2>Budget</h2>
      {budget.data ? (
        <>
          <BudgetMeter budget={budget.data} />
          <BudgetForm budget={budget.data} onSaved={budget.reload} />
        </>
      ) : (
        <p class="muted">{budget.loading ? 'Loading…' : 'Reading the budget needs budgets:manage.'}</p>
      )}
      <div class="charts">
        <ByDay month={month} budget={budget.data} />
        {u && <BarChart title="By workflow" rows={u.byWorkflow} testId="usage-by-workflow" />}
        {u && <BarChart title="By agent" rows={u.byAgent} testId="usage-by-agent" />}
        {u && <BarChart title="By team" rows={u.byTeam} testId="usage-by-team" />}
      </div>
    </Page>
  );
}

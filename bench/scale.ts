/**
 * Audit and usage at scale: write throughput of one tenant against eight, and execution
 * starts at 32 concurrent in one tenant, on the local platform. Run alone with `npm run bench:scale`
 * (it appends nothing; it prints a Markdown section for bench/RESULTS.md).
 */
import { randomBytes } from 'node:crypto';
import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoClient, passwordLogin } from '../bin/local/auth.ts';
import { generatePassword } from '../bin/local/state.ts';
import { call, field } from './capacity.ts';
import { setUp } from './executions.ts';
import type { BenchPlatform } from './local-session.ts';
import { median, percentile } from './stats.ts';

/** One load run: how many requests, how many at a time, how they were answered. */
export interface LoadResult {
  readonly label: string;
  readonly total: number;
  readonly concurrency: number;
  readonly wallMs: number;
  readonly ok: number;
  readonly status503: number;
  readonly otherFailures: readonly string[];
  readonly latencies: readonly number[];
}

export interface ScaleResults {
  readonly oneTenant: LoadResult;
  readonly eightTenants: LoadResult;
  readonly starts: LoadResult;
}

/** Requests per second answered with the expected status. */
export const rateOf = (r: LoadResult): number => r.ok / (r.wallMs / 1000);

/** Runs `total` requests `concurrency` at a time; `send(i)` returns the status it got. */
async function load(
  label: string,
  total: number,
  concurrency: number,
  expected: number,
  send: (index: number) => Promise<{ status: number; text: string }>,
): Promise<LoadResult> {
  let next = 0;
  let ok = 0;
  let status503 = 0;
  const otherFailures: string[] = [];
  const latencies: number[] = [];
  const began = performance.now();
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      const sent = performance.now();
      const answer = await send(index);
      latencies.push(performance.now() - sent);
      if (answer.status === expected) ok++;
      else if (answer.status === 503) status503++;
      else otherFailures.push(`${answer.status} ${answer.text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return {
    label,
    total,
    concurrency,
    wallMs: performance.now() - began,
    ok,
    status503,
    otherFailures,
    latencies,
  };
}

/** A fresh tenant created by the platform admin, and its admin's bearer header. */
async function tenantAdmin(
  bench: BenchPlatform,
  tag: string,
  index: number,
  plan: 'pro' | 'enterprise' = 'pro',
): Promise<Record<string, string>> {
  const adminEmail = `scale-${tag}-${index}@bench.meridian.local`;
  const created = await call(
    bench.apiUrl,
    { method: 'POST', path: '/tenants', body: { name: `scale-${tag}-${index}`, plan, adminEmail } },
    bench.headers.platformAdmin,
  );
  if (created.status !== 201) throw new Error(`POST /tenants: ${created.status} ${created.text}`);
  field(created.body, 'tenantId');
  const { cognito } = bench.platform.demo;
  const password = generatePassword();
  const client = cognitoClient(cognito.endpoint);
  try {
    await client.send(
      new AdminSetUserPasswordCommand({
        UserPoolId: cognito.userPoolId,
        Username: adminEmail,
        Password: password,
        Permanent: true,
      }),
    );
  } finally {
    client.destroy();
  }
  const tokens = await passwordLogin(cognito, adminEmail, password);
  return { authorization: `Bearer ${tokens.accessToken}` };
}

const ROLE_WRITES = 160;
const WRITE_CONCURRENCY = 16;
const STARTS = 128;
const START_CONCURRENCY = 32;

/** The three loads, one after the other on the running platform. */
export async function measureScale(bench: BenchPlatform): Promise<ScaleResults> {
  const tag = randomBytes(3).toString('hex');
  const tenants = await Promise.all(Array.from({ length: 8 }, (_, i) => tenantAdmin(bench, tag, i)));
  const createRole = (headers: Record<string, string>, name: string) =>
    call(
      bench.apiUrl,
      { method: 'POST', path: '/roles', body: { name, permissions: ['workflows:read'] } },
      headers,
    );
  const first = tenants[0] as Record<string, string>;
  // Warm every tenant's credentials in the authorizer's cache first, then the platform itself with an
  // unmeasured round of the same writes across the tenants: otherwise the first measured load pays
  // for the JIT and for the audit consumer's backlog of the setup's records, and the second does not.
  await Promise.all(tenants.map((h, i) => createRole(h, `warm-${tag}-${i}`)));
  await load('warm-up', ROLE_WRITES, WRITE_CONCURRENCY, 201, (i) =>
    createRole(tenants[i % tenants.length] as Record<string, string>, `warmup-${tag}-${i}`),
  );
  const oneTenant = await load('one tenant', ROLE_WRITES, WRITE_CONCURRENCY, 201, (i) =>
    createRole(first, `one-${tag}-${i}`),
  );
  const eightTenants = await load('eight tenants', ROLE_WRITES, WRITE_CONCURRENCY, 201, (i) =>
    createRole(tenants[i % tenants.length] as Record<string, string>, `eight-${tag}-${i}`),
  );
  // Starts run in an enterprise tenant (250 running executions allowed): 32 concurrent starts of a
  // pro tenant meet its plan's bulkhead (25 running), which refuses the excess with 429 by design,
  // and this load measures the start path, as the first measurement (before the bulkhead) did.
  const enterprise = await tenantAdmin(bench, tag, tenants.length, 'enterprise');
  const startBench = { ...bench, headers: { ...bench.headers, tenantAdmin: enterprise } };
  const workflow = await setUp(startBench);
  const starts = await load('starts', STARTS, START_CONCURRENCY, 202, (i) =>
    call(
      bench.apiUrl,
      {
        method: 'POST',
        path: `/workflows/${workflow.workflowId}/executions`,
        body: { input: { text: `I want a refund for order ${i}`, order: `${tag}-${i}` } },
      },
      { ...enterprise, 'idempotency-key': `scale-${tag}-${i}` },
    ),
  );
  return { oneTenant, eightTenants, starts };
}

function line(r: LoadResult): string {
  const p50 = r.latencies.length ? median(r.latencies).toFixed(0) : '—';
  const p95 = r.latencies.length ? percentile(r.latencies, 95).toFixed(0) : '—';
  const other = r.otherFailures.length
    ? `, other failures ${r.otherFailures.length} (${r.otherFailures[0]})`
    : '';
  return `| ${r.label} | ${r.total} at ${r.concurrency} | ${rateOf(r).toFixed(1)}/s | ${p50} ms | ${p95} ms | ${r.status503}${other} |`;
}

/** The results as Markdown rows. */
export function renderScale(r: ScaleResults): string {
  const ratio = rateOf(r.oneTenant) / rateOf(r.eightTenants);
  return [
    '| Load | Requests | Throughput | p50 | p95 | 503s |',
    '|---|---|---|---|---|---|',
    line({ ...r.oneTenant, label: 'POST /roles, one tenant' }),
    line({ ...r.eightTenants, label: 'POST /roles, eight tenants' }),
    line({ ...r.starts, label: 'POST /workflows/{id}/executions, one tenant' }),
    '',
    `One tenant reaches ${(ratio * 100).toFixed(0)} % of eight tenants' write throughput.`,
  ].join('\n');
}

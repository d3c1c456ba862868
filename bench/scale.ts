/** Section `scale`: one tenant's writes against eight's, then starts at 32 (bench/RESULTS.template.md). */
import { randomBytes } from 'node:crypto';
import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoClient, passwordLogin } from '../bin/local/auth.ts';
import { generatePassword } from '../bin/local/state.ts';
import { setUp } from './executions.ts';
import { type HttpHeaders, median, ms, percentile, pool, type SectionResult, table, verdict } from './lib.ts';
import type { BenchPlatform } from './platform.ts';

const ONE_VS_EIGHT = 0.8;
/** Starts per second at 32 concurrent before the audit work (2026-11-29, 21:16 UTC run). */
const STARTS_BEFORE = 2.0;
const WRITES = 160;
const STARTS = 128;

/** A fresh tenant made by the platform admin, and its admin's bearer header. */
async function tenantAdmin(bench: BenchPlatform, name: string, plan: 'pro' | 'enterprise') {
  const adminEmail = `${name}@bench.meridian.local`;
  const made = { method: 'POST', path: '/tenants', body: { name, plan, adminEmail }, expect: 201 };
  await bench.call(made, bench.headers.platformAdmin);
  const { cognito } = bench.platform.demo;
  const password = generatePassword();
  const client = cognitoClient(cognito.endpoint);
  const set = { UserPoolId: cognito.userPoolId, Username: adminEmail, Password: password, Permanent: true };
  await client.send(new AdminSetUserPasswordCommand(set)).finally(() => client.destroy());
  return { authorization: `Bearer ${(await passwordLogin(cognito, adminEmail, password)).accessToken}` };
}

type Send = (i: number) => Promise<{ status: number }>;

/** `total` requests `concurrency` at a time, `expected` the status of success; `cells` its table row. */
async function load(total: number, concurrency: number, expected: number, send: Send) {
  const statuses: number[] = [];
  const record = async (i: number) => statuses.push((await send(i)).status);
  const { wallMs, latencies } = await pool(total, concurrency, record);
  const ok = statuses.filter((status) => status === expected).length;
  const unavailable = statuses.filter((status) => status === 503).length;
  const rate = ok / (wallMs / 1000);
  const latency = [ms(median(latencies), 0), ms(percentile(latencies, 95), 0)];
  const cells = [`${total} at ${concurrency}`, `${rate.toFixed(1)}/s`, ...latency, unavailable];
  return { rate, unavailable, other: total - ok - unavailable, cells };
}

export async function measureScale(bench: BenchPlatform): Promise<SectionResult> {
  const tag = randomBytes(3).toString('hex');
  const tenants = await Promise.all(
    Array.from({ length: 8 }, (_, i) => tenantAdmin(bench, `scale-${tag}-${i}`, 'pro')),
  );
  const role = (h: HttpHeaders, name: string) =>
    bench.call({ method: 'POST', path: '/roles', body: { name, permissions: ['workflows:read'] } }, h);
  const nth = (i: number) => tenants[i % tenants.length] as HttpHeaders;
  // Unmeasured: a round of the same writes warms the authorizer's cache, the JIT and the audit consumer.
  await load(WRITES, 16, 201, (i) => role(nth(i), `warm-${tag}-${i}`));
  const one = await load(WRITES, 16, 201, (i) => role(nth(0), `one-${tag}-${i}`));
  const eight = await load(WRITES, 16, 201, (i) => role(nth(i), `eight-${tag}-${i}`));
  // An enterprise tenant: a pro tenant's bulkhead refuses starts beyond 25 running with 429, by design.
  const enterprise = await tenantAdmin(bench, `scale-${tag}-e`, 'enterprise');
  const { workflowId } = await setUp(bench, enterprise);
  const starts = await load(STARTS, 32, 202, (i) => {
    const body = { input: { text: `refund ${i}`, order: `${tag}-${i}` } };
    const headers = { ...enterprise, 'idempotency-key': `scale-${tag}-${i}` };
    return bench.call({ method: 'POST', path: `/workflows/${workflowId}/executions`, body }, headers);
  });
  const ratio = one.rate / eight.rate;
  const refused = (l: typeof one) => `${l.unavailable} × 503${l.other ? `, ${l.other} other failures` : ''}`;
  return {
    rows: [
      {
        target: `One tenant ≥ ${ONE_VS_EIGHT * 100} % of eight tenants' write throughput (${WRITES} POST /roles at 16), no 503s`,
        measured: `${(ratio * 100).toFixed(0)} % (${one.rate.toFixed(1)}/s vs ${eight.rate.toFixed(1)}/s); ${refused(one)}; ${refused(eight)}`,
        verdict: verdict(ratio >= ONE_VS_EIGHT && one.unavailable + eight.unavailable === 0),
      },
      {
        target: `Starts at 32 concurrent ≥ 2× ${STARTS_BEFORE.toFixed(1)}/s, no 503s`,
        measured: `${starts.rate.toFixed(1)}/s (${(starts.rate / STARTS_BEFORE).toFixed(1)}×); ${refused(starts)}`,
        verdict: verdict(starts.rate >= 2 * STARTS_BEFORE && starts.unavailable === 0),
      },
    ],
    values: {
      table: table(
        ['Load', 'Requests', 'Throughput', 'p50', 'p95', '503s'],
        [
          ['POST /roles, one tenant', ...one.cells],
          ['POST /roles, eight tenants', ...eight.cells],
          ['POST /workflows/{id}/executions, one tenant', ...starts.cells],
        ],
      ),
    },
  };
}

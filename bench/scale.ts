/** Section `scale`: one tenant's writes against eight's, then starts at 32 (bench/RESULTS.template.md). */
import { randomBytes } from 'node:crypto';
import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { cognitoClient, passwordLogin } from '../bin/local/auth.ts';
import { generatePassword } from '../bin/local/state.ts';
import { setUp } from './executions.ts';
import { median, ms, percentile, pool, type SectionResult, table, verdict } from './lib.ts';
import type { BenchPlatform } from './platform.ts';

/** Targets: one tenant ≥ 80 % of eight tenants' write throughput, starts ≥ 2× 2.0/s, no 503s. */
const ONE_VS_EIGHT = 0.8;
/** Starts per second at 32 concurrent before the audit work (2026-11-29, 21:16 UTC run). */
const STARTS_BEFORE = 2.0;
const WRITES = 160;
const STARTS = 128;

type Headers = Record<string, string>;

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

/** `total` requests `concurrency` at a time; `send(i)` answers a status. */
async function load(total: number, concurrency: number, expected: number, send: Send) {
  let ok = 0;
  let unavailable = 0;
  let other = 0;
  const { wallMs, latencies } = await pool(total, concurrency, async (i) => {
    const { status } = await send(i);
    if (status === expected) ok++;
    else if (status === 503) unavailable++;
    else other++;
  });
  return { total, concurrency, rate: ok / (wallMs / 1000), latencies, unavailable, other };
}

export async function measureScale(bench: BenchPlatform): Promise<SectionResult> {
  const tag = randomBytes(3).toString('hex');
  const tenants = await Promise.all(
    Array.from({ length: 8 }, (_, i) => tenantAdmin(bench, `scale-${tag}-${i}`, 'pro')),
  );
  const role = (h: Headers, name: string) =>
    bench.call({ method: 'POST', path: '/roles', body: { name, permissions: ['workflows:read'] } }, h);
  const nth = (i: number) => tenants[i % tenants.length] as Headers;
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
        Object.entries({
          'POST /roles, one tenant': one,
          'POST /roles, eight tenants': eight,
          'POST /workflows/{id}/executions, one tenant': starts,
        }).map(([label, r]) => [
          label,
          `${r.total} at ${r.concurrency}`,
          `${r.rate.toFixed(1)}/s`,
          ms(median(r.latencies), 0),
          ms(percentile(r.latencies, 95), 0),
          r.unavailable,
        ]),
      ),
    },
  };
}

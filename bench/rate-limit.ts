/** Section `rate-limits`: accuracy across containers, admission overhead (bench/RESULTS.template.md). */
import { dynamoDocumentClient } from '#adapters/aws-clients.ts';
import { DynamoRateCounterStore } from '#adapters/dynamo/rate-limit-store.ts';
import { DEFAULT_RATE_LIMITS, type RateCounterStore, RateLimiter } from '#core/governance/rate-limit.ts';
import { newId } from '#core/ids.ts';
import type { TenantPrincipal } from '#core/principal.ts';
import { rateLimitGate } from '#shared/rate-limit-gate.ts';
import { LOCAL_NAMES } from '../bin/local/env.ts';
import { percentile, pool, type SectionResult, sleep, table, verdict } from './lib.ts';

/** Issue "traffic governance": accepted per window ≤ 1.1 × the limit; admission p50 ≤ 1 ms. */
const MAX_RATIO = 1.1;
const MAX_P50_MS = 1;

async function accuracy(store: RateCounterStore) {
  const [containers, clients, windowSeconds, limit] = [8, 32, 10, 100];
  const limiters = Array.from({ length: containers }, () => new RateLimiter(store, windowSeconds));
  const tenantId = newId('t'); // a fresh tenant: every run counts from zero
  const accepted: number[] = [];
  const end = Date.now() + 3 * windowSeconds * 1000;
  await pool(clients, clients, async (i) => {
    while (Date.now() < end) {
      const limiter = limiters[i % containers] as RateLimiter;
      const { allowed } = await limiter.take(tenantId, { policy: 'tenant', counter: 'TENANT', limit });
      if (allowed) accepted.push(Date.now());
      else await sleep(5); // a refused client backs off a little
    }
  });
  accepted.sort((a, b) => a - b);
  let worst = 0;
  for (let start = 0, i = 0; i < accepted.length; i++) {
    while ((accepted[i] as number) - (accepted[start] as number) >= windowSeconds * 1000) start++;
    worst = Math.max(worst, i - start + 1);
  }
  return { containers, clients, windowSeconds, limit, accepted: accepted.length, worst };
}

async function overhead(inner: RateCounterStore, concurrency: number, requests: number) {
  let tableCalls = 0;
  const store: RateCounterStore = { tryAdd: (...args) => inner.tryAdd(...args).finally(() => tableCalls++) };
  // One limiter, as one container keeps one (functions/handlers/api.ts).
  const limiter = new RateLimiter(store, DEFAULT_RATE_LIMITS.windowSeconds);
  const gate = rateLimitGate(() => limiter, DEFAULT_RATE_LIMITS);
  const principal: TenantPrincipal = {
    kind: 'tenant',
    tenantId: newId('t'),
    principalId: 'user-bench',
    principalType: 'user',
    roles: [],
    permissions: new Set(),
  };
  // Paced at about 80 % of the pro plan's quota: the overhead of admitted requests is measured.
  const pauseMs =
    Math.ceil((DEFAULT_RATE_LIMITS.windowSeconds * 1250) / DEFAULT_RATE_LIMITS.tenant.pro) * concurrency;
  const admit = () => gate(principal, { authenticated: true, tenantPlan: 'pro' }).catch(() => undefined);
  const { latencies: samples } = await pool(requests, concurrency, admit, pauseMs);
  return { concurrency, requests, samples, tableCalls };
}

export async function measureRateLimits(): Promise<SectionResult> {
  const db = dynamoDocumentClient(); // the platform's: its endpoint is DynamoDB Local's
  const clients = { platform: db, forTenant: async () => db };
  const store = new DynamoRateCounterStore(LOCAL_NAMES.tableName, clients);
  await overhead(store, 1, 50); // warms the client and the table's code paths
  const a = await accuracy(store);
  const runs = [await overhead(store, 1, 1000), await overhead(store, 32, 1600)];
  const p50s = runs.map((r) => percentile(r.samples, 50));
  return {
    rows: [
      {
        target: `Rate limiter: accepted in any window ≤ ${MAX_RATIO} × the limit (${a.containers} containers, ${a.clients} clients)`,
        measured: `${(a.worst / a.limit).toFixed(3)} × (${a.worst} in the busiest ${a.windowSeconds} s window, limit ${a.limit})`,
        verdict: verdict(a.worst / a.limit <= MAX_RATIO),
      },
      {
        target: `Rate limiter: admission step p50 ≤ ${MAX_P50_MS} ms`,
        measured: `sequential ${p50s[0]?.toFixed(3)} ms, 32 concurrent ${p50s[1]?.toFixed(3)} ms`,
        verdict: verdict(p50s.every((p) => p <= MAX_P50_MS)),
      },
    ],
    values: {
      accepted: String(a.accepted),
      table: table(
        ['Clients', 'Requests', 'p50 ms', 'p90 ms', 'p99 ms', 'Table calls'],
        runs.map((r) => [
          r.concurrency === 1 ? 'sequential' : `${r.concurrency} concurrent`,
          r.requests,
          ...[50, 90, 99].map((p) => percentile(r.samples, p).toFixed(3)),
          `${r.tableCalls} (${((100 * r.tableCalls) / r.requests).toFixed(1)} %)`,
        ]),
      ),
    },
  };
}

import { describe, expect, it } from 'vitest';
import { buildRecord } from '#core/audit/audit.ts';
import { NotFoundError } from '#core/errors.ts';
import type { Tenant } from '#core/tenancy/model.ts';
import {
  eraserOf,
  type JobRunner,
  type OffboardingJob,
  type OffboardingStore,
  requestOffboarding,
  runningExecutionsEraser,
  runOffboardingStep,
  stateMachineEraser,
  type TenantEraser,
} from '#core/tenancy/offboarding.ts';
import { fakeTenants } from '../../../helpers/tenancy-stores.ts';

/** Offboarding's job logic on in-memory ports: order, idempotence, resumption after a kill. */

const TENANT = 'tabcdefghijklmnop';
const META = { requestId: 'r1', sourceIp: '10.0.0.1', userAgent: 'test', now: '2026-11-30T00:00:00.000Z' };
const PLATFORM = { kind: 'platform' as const, principalId: 'operator-sub' };

const tenant: Tenant = {
  tenantId: TENANT,
  name: 'Acme',
  plan: 'pro',
  status: 'active',
  adminEmail: 'boss@acme.example',
  createdAt: META.now,
  updatedAt: META.now,
};

class MemoryJobs implements OffboardingStore {
  job: OffboardingJob | undefined;
  began = 0;
  /** Makes the next saves fail as a killed Lambda would (after erasing, before recording). */
  killNextSave = false;

  async getJob() {
    return this.job ? structuredClone(this.job) : undefined;
  }
  async beginOffboarding(_t: Tenant, job: OffboardingJob) {
    this.began++;
    this.job = structuredClone(job);
  }
  async saveJob(job: OffboardingJob) {
    if (this.killNextSave) {
      this.killNextSave = false;
      throw new Error('killed');
    }
    if (this.job?.version !== job.version - 1) return false;
    this.job = structuredClone(job);
    return true;
  }
}

/** An eraser over `n` items, `batch` per call, that really removes them (idempotent). */
function itemEraser(name: string, n: number, batch: number): TenantEraser & { left: Set<number> } {
  const left = new Set(Array.from({ length: n }, (_, i) => i));
  return {
    name,
    left,
    erase: async () => {
      const doomed = [...left].slice(0, batch);
      for (const i of doomed) left.delete(i);
      return { erased: doomed.length, ...(left.size > 0 ? { cursor: 'more' } : {}) };
    },
  };
}

function setup(erasers: TenantEraser[]) {
  const jobs = new MemoryJobs();
  const runs: string[] = [];
  const runner: JobRunner = { start: async (input) => void runs.push(input.runName) };
  const store = fakeTenants({ getTenant: async (id: string) => (id === TENANT ? tenant : undefined) });
  const deps = { store, jobs, runner, erasers, now: () => new Date('2026-11-30T00:01:00.000Z') };
  return { deps, jobs, runs };
}

async function runToEnd(deps: ReturnType<typeof setup>['deps']): Promise<string[]> {
  const phases: string[] = [];
  for (let i = 0; i < 100; i++) {
    const out = await runOffboardingStep(deps, TENANT);
    if (out.phase) phases.push(out.phase);
    if (out.done) return phases;
  }
  throw new Error('never done');
}

describe('offboarding', () => {
  it('runs every phase in order, in bounded batches, and completes with the counts', async () => {
    // Prepare
    const logins = itemEraser('logins', 3, 2);
    const items = itemEraser('items', 5, 2);
    const { deps, jobs, runs } = setup([logins, items]);
    // Act
    const job = await requestOffboarding(deps, PLATFORM, META, TENANT);
    const phases = await runToEnd(deps);
    // Assess
    expect(runs).toEqual([`${job.jobId}-1`]);
    expect(phases).toEqual(['logins', 'logins', 'items', 'items', 'items']);
    expect(logins.left.size + items.left.size).toBe(0);
    expect(jobs.job?.status).toBe('completed');
    expect(jobs.job?.phases).toEqual([
      { name: 'logins', erased: 3, done: true },
      { name: 'items', erased: 5, done: true },
    ]);
    expect(jobs.job?.cursor).toBeUndefined();
  });

  it('passes over a phase this deployment has no eraser for, and still runs the phases after it', async () => {
    // Prepare: a job begun by a deployment that had a `legacy` phase
    const items = itemEraser('items', 2, 10);
    const { deps, jobs } = setup([itemEraser('legacy', 0, 10), items]);
    await requestOffboarding(deps, PLATFORM, META, TENANT);
    const later = { ...deps, erasers: [items] };
    // Act
    const phases = await runToEnd(later);
    // Assess
    expect(phases).toEqual(['legacy', 'items']);
    expect(items.left.size).toBe(0);
    expect(jobs.job?.status).toBe('completed');
  });

  it('is idempotent: a second request answers the same job, starting a new run only while unfinished', async () => {
    // Prepare
    const { deps, jobs, runs } = setup([itemEraser('items', 1, 10)]);
    // Act
    const first = await requestOffboarding(deps, PLATFORM, META, TENANT);
    const second = await requestOffboarding(deps, PLATFORM, META, TENANT);
    await runToEnd(deps);
    const third = await requestOffboarding(deps, PLATFORM, META, TENANT);
    // Assess
    expect(jobs.began).toBe(1);
    expect(second.jobId).toBe(first.jobId);
    expect(third.jobId).toBe(first.jobId);
    expect(third.status).toBe('completed');
    expect(runs).toEqual([`${first.jobId}-1`, `${first.jobId}-2`]);
  });

  it('resumes after a run is killed between a batch and its record: the batch runs twice, harmlessly', async () => {
    // Prepare
    const items = itemEraser('items', 4, 2);
    const { deps, jobs } = setup([items]);
    await requestOffboarding(deps, PLATFORM, META, TENANT);
    await runOffboardingStep(deps, TENANT);
    jobs.killNextSave = true;
    // Act: the second batch erases, then the "Lambda" dies before recording it
    await expect(runOffboardingStep(deps, TENANT)).rejects.toThrow('killed');
    const afterKill = structuredClone(jobs.job);
    const phases = await runToEnd(deps);
    // Assess: the record still showed the first batch; the next run finished without error
    expect(afterKill?.phases[0]?.erased).toBe(2);
    expect(afterKill?.status).toBe('running');
    expect(phases).toEqual(['items']);
    expect(items.left.size).toBe(0);
    expect(jobs.job?.status).toBe('completed');
    // The killed batch's items are gone but were never recorded: counts are of recorded batches
    expect(jobs.job?.phases[0]?.erased).toBe(2);
  });

  it('two concurrent requests start one run: the loser records nothing and starts nothing', async () => {
    // Prepare
    const { deps, jobs, runs } = setup([itemEraser('items', 1, 1)]);
    await requestOffboarding(deps, PLATFORM, META, TENANT);
    // Act: both read the job before either records its run
    const [a, b] = await Promise.all([
      requestOffboarding(deps, PLATFORM, META, TENANT),
      requestOffboarding(deps, PLATFORM, META, TENANT),
    ]);
    // Assess
    expect(runs).toHaveLength(2);
    expect(jobs.job?.runs).toBe(2);
    expect([a.runs, b.runs]).toEqual([2, 2]);
  });

  it('answers 404 for an unknown tenant and for a step of a job that does not exist', async () => {
    const { deps } = setup([]);
    await expect(requestOffboarding(deps, PLATFORM, META, 'tzzzzzzzzzzzzzzzz')).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(runOffboardingStep(deps, TENANT)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('eraserOf wraps a deleteAllForTenant in one phase', async () => {
    const calls: string[] = [];
    const eraser = eraserOf('schedules', async (t) => {
      calls.push(t);
      return 3;
    });
    expect(await eraser.erase(TENANT)).toEqual({ erased: 3 });
    expect(calls).toEqual([TENANT]);
    expect(eraser.name).toBe('schedules');
  });
});

describe('the Step Functions phases name the erased tenant to the engine', () => {
  it('stops only running or waiting executions, each named with its tenant', async () => {
    // Prepare
    const stopped: [string, string][] = [];
    const executions = {
      list: async () => ({
        items: [
          { engineArn: 'arn:run', status: 'RUNNING' },
          { engineArn: 'arn:wait', status: 'WAITING_APPROVAL' },
          { engineArn: 'arn:done', status: 'SUCCEEDED' },
          { status: 'RUNNING' },
        ],
      }),
    } as unknown as Parameters<typeof runningExecutionsEraser>[0];
    const eraser = runningExecutionsEraser(executions, {
      stop: async ({ tenantId, engineArn }) => void stopped.push([tenantId, engineArn]),
    });
    // Act
    const out = await eraser.erase(TENANT);
    // Assess
    expect(out).toEqual({ erased: 2 });
    expect(stopped).toEqual([
      [TENANT, 'arn:run'],
      [TENANT, 'arn:wait'],
    ]);
  });

  it("removes each workflow's machine named with its tenant, and pages on", async () => {
    // Prepare
    const removed: [string, string][] = [];
    const definitions = {
      listHeads: async () => ({
        items: [{ stateMachineArn: 'arn:sm1' }, {}, { stateMachineArn: 'arn:sm2' }],
        nextCursor: 'c2',
      }),
    } as unknown as Parameters<typeof stateMachineEraser>[0];
    const eraser = stateMachineEraser(definitions, {
      remove: async ({ tenantId, stateMachineArn }) => void removed.push([tenantId, stateMachineArn]),
    });
    // Act
    const out = await eraser.erase(TENANT);
    // Assess
    expect(out).toEqual({ erased: 2, cursor: 'c2' });
    expect(removed).toEqual([
      [TENANT, 'arn:sm1'],
      [TENANT, 'arn:sm2'],
    ]);
  });
});

describe('audit records hold no personal data', () => {
  it('leaves emails out of before and after at any depth, keeping the opaque ids', () => {
    const record = buildRecord({
      tenantId: TENANT,
      actor: { id: 'sub-123', type: 'user' },
      meta: META,
      draft: {
        action: 'user.invite',
        resourceType: 'user',
        resourceId: 'sub-456',
        before: { tenant: { adminEmail: 'boss@acme.example', name: 'Acme' } },
        after: { userId: 'sub-456', email: 'person@acme.example', roles: ['viewer'] },
      },
    });
    expect(JSON.stringify(record)).not.toContain('@acme.example');
    expect(record.after).toEqual({ userId: 'sub-456', roles: ['viewer'] });
    expect(record.before).toEqual({ tenant: { name: 'Acme' } });
    expect(record.actor.id).toBe('sub-123');
  });
});

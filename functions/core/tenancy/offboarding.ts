import { type AuditContext, actorOf } from '../audit/audit.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import type { ExecutionEngine, ExecutionStore } from '../executions/ports.ts';
import { derivedId } from '../ids.ts';
import type { PlatformPrincipal, RequestMeta } from '../principal.ts';
import type { WorkflowEngine } from '../versioning/engine.ts';
import type { DefinitionStore } from '../versioning/ports.ts';
import { loginOf, type Tenant } from './model.ts';
import type { IdentityDirectory, SecretVault, TenantStore, UserStore } from './ports.ts';

/**
 * One kind of a tenant's data that offboarding erases. `erase` removes at most one bounded batch and
 * returns where to continue (`cursor`), or no cursor once nothing is left. It must be idempotent:
 * a batch run twice (a job killed after erasing but before recording its progress) erases nothing
 * more the second time and fails on nothing already gone.
 *
 * Features built elsewhere (schedules, notifications, identity providers) plug in with one line:
 * `{ name: 'schedules', erase: async (t) => ({ erased: await schedules.deleteAllForTenant(t) }) }`.
 */
export interface TenantEraser {
  readonly name: string;
  erase(tenantId: string, cursor?: string): Promise<{ erased: number; cursor?: string }>;
}

/** Wraps a `deleteAllForTenant(tenantId)` (which erases everything in one call) as an eraser. */
export function eraserOf(
  name: string,
  deleteAllForTenant: (tenantId: string) => Promise<number | undefined>,
): TenantEraser {
  return {
    name,
    erase: async (tenantId) => ({ erased: Number((await deleteAllForTenant(tenantId)) ?? 0) }),
  };
}

/** Progress of one phase of an offboarding job. */
export interface OffboardingPhase {
  readonly name: string;
  readonly erased: number;
  readonly done: boolean;
}

/** An offboarding job, kept as the tenant's tombstone once the tenant record is gone. */
export interface OffboardingJob {
  readonly jobId: string;
  readonly tenantId: string;
  readonly status: 'running' | 'completed';
  readonly phases: readonly OffboardingPhase[];
  /** Where the current phase continues (opaque, the phase's own cursor). */
  readonly cursor?: string;
  /** Runs of the job's state machine started so far (a DELETE after a failed run starts another). */
  readonly runs: number;
  /** Bumped by every write: the optimistic check between concurrent runs. */
  readonly version: number;
  readonly requestedBy: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
}

/** Where offboarding jobs live (the tenant's `OFFBOARDING` item: kept when the rest is erased). */
export interface OffboardingStore {
  getJob(tenantId: string): Promise<OffboardingJob | undefined>;
  /**
   * Marks the tenant `offboarding` and creates the job, with its audit record, in one transaction.
   * Conflicts (another request did it first) raise {@link ConflictError}.
   */
  beginOffboarding(tenant: Tenant, job: OffboardingJob, audit: AuditContext): Promise<void>;
  /** Writes the job if its stored version is `job.version - 1` (optimistic); false when another writer won. */
  saveJob(job: OffboardingJob): Promise<boolean>;
}

/** Starts a run of a lifecycle job's state machine; a run of the same name is started only once. */
export interface JobRunner {
  start(input: {
    readonly kind: 'offboarding' | 'export';
    readonly runName: string;
    readonly input: Record<string, string>;
  }): Promise<void>;
}

/** What offboarding needs. */
export interface OffboardingDeps {
  readonly store: Pick<TenantStore, 'getTenant'>;
  readonly jobs: OffboardingStore;
  readonly runner: JobRunner;
  /** The phases in order; the last one deletes the tenant record. */
  readonly erasers: readonly TenantEraser[];
  /**
   * Phases the DELETE request runs itself, before the job starts, with the API's own rights: the
   * tenant's resources outside the table that the API already manages and that are few (its
   * schedule group, identity providers, notification log). Each is idempotent; a DELETE repeated
   * after a crash runs the ones not marked done again.
   */
  readonly inRequest?: readonly TenantEraser[];
  readonly now: () => Date;
}

/** The job id of a tenant's offboarding: one per tenant, so a second DELETE names the same job. */
export const offboardingJobId = (tenantId: string): string => derivedId('p', `offboarding|${tenantId}`);

/**
 * `DELETE /tenants/{id}`: marks the tenant offboarding (every request of it is then refused, its keys
 * stop) and starts the job. Idempotent: a second call answers the same job, and when the job has not
 * completed it starts another run, which continues from the recorded progress (resumable).
 */
export async function requestOffboarding(
  deps: OffboardingDeps,
  principal: PlatformPrincipal,
  meta: RequestMeta,
  tenantId: string,
): Promise<OffboardingJob> {
  let job = await deps.jobs.getJob(tenantId);
  if (!job) {
    const tenant = await deps.store.getTenant(tenantId);
    if (!tenant) throw new NotFoundError(`No tenant ${tenantId}.`);
    const fresh: OffboardingJob = {
      jobId: offboardingJobId(tenantId),
      tenantId,
      status: 'running',
      phases: [...(deps.inRequest ?? []), ...deps.erasers].map((e) => ({
        name: e.name,
        erased: 0,
        done: false,
      })),
      runs: 0,
      version: 1,
      requestedBy: principal.principalId,
      startedAt: meta.now,
      updatedAt: meta.now,
    };
    try {
      await deps.jobs.beginOffboarding(tenant, fresh, {
        tenantId,
        actor: actorOf(principal),
        meta,
        draft: {
          action: 'tenant.offboard',
          resourceType: 'tenant',
          resourceId: tenantId,
          before: { status: tenant.status },
          after: { status: 'offboarding', jobId: fresh.jobId },
        },
      });
      job = fresh;
    } catch (error) {
      if (!(error instanceof ConflictError)) throw error;
      job = await deps.jobs.getJob(tenantId);
      if (!job) throw error;
    }
  }
  if (job.status === 'completed') return job;
  let phases = job.phases;
  for (const eraser of deps.inRequest ?? []) {
    const at = phases.findIndex((p) => p.name === eraser.name && !p.done);
    if (at < 0) continue;
    const { erased } = await eraser.erase(tenantId);
    phases = phases.map((p, i) => (i === at ? { ...p, erased: p.erased + erased, done: true } : p));
  }
  const next: OffboardingJob = {
    ...job,
    phases,
    runs: job.runs + 1,
    version: job.version + 1,
    updatedAt: meta.now,
  };
  // Only the request that counts the run starts it: two concurrent DELETEs start one run.
  if (await deps.jobs.saveJob(next)) {
    await deps.runner.start({
      kind: 'offboarding',
      runName: `${job.jobId}-${next.runs}`,
      input: { tenantId, jobId: job.jobId },
    });
    return next;
  }
  return (await deps.jobs.getJob(tenantId)) ?? next;
}

/** The progress of a tenant's offboarding, or 404. */
export async function getOffboarding(deps: Pick<OffboardingDeps, 'jobs'>, tenantId: string) {
  const job = await deps.jobs.getJob(tenantId);
  if (!job) throw new NotFoundError(`Tenant ${tenantId} is not being offboarded.`);
  return job;
}

/**
 * One step of the job (one Lambda task of its state machine): erases one bounded batch of the
 * current phase and records the progress. The job record, not the task's input, says where to go
 * on, so a run started after a killed one continues where the last recorded batch ended.
 */
export async function runOffboardingStep(
  deps: Pick<OffboardingDeps, 'jobs' | 'erasers' | 'now'>,
  tenantId: string,
): Promise<{ done: boolean; phase?: string }> {
  const job = await deps.jobs.getJob(tenantId);
  if (!job) throw new NotFoundError(`Tenant ${tenantId} is not being offboarded.`);
  if (job.status === 'completed') return { done: true };
  const index = job.phases.findIndex((p) => !p.done);
  const phase = job.phases[index];
  const eraser = deps.erasers.find((e) => e.name === phase?.name);
  if (!phase) {
    await deps.jobs.saveJob(complete({ ...job, version: job.version + 1 }, deps.now()));
    return { done: true };
  }
  // A phase this deployment has no eraser for (renamed or removed since the job began) is passed
  // over, never taken as the end of the job: the phases after it, the table's items among them, run.
  const out = eraser ? await eraser.erase(tenantId, job.cursor) : { erased: 0 };
  const now = deps.now().toISOString();
  const phases = job.phases.map((p, i) =>
    i === index ? { ...p, erased: p.erased + out.erased, done: out.cursor === undefined } : p,
  );
  const { cursor: _c, ...rest } = job;
  let next: OffboardingJob = {
    ...rest,
    phases,
    ...(out.cursor !== undefined ? { cursor: out.cursor } : {}),
    version: job.version + 1,
    updatedAt: now,
  };
  if (phases.every((p) => p.done)) next = complete(next, deps.now());
  // Another run advanced the job meanwhile: its record wins, and this batch was idempotent.
  await deps.jobs.saveJob(next);
  return { done: next.status === 'completed', phase: phase.name };
}

function complete(job: OffboardingJob, at: Date): OffboardingJob {
  const { cursor: _c, ...rest } = job;
  return { ...rest, status: 'completed', completedAt: at.toISOString(), updatedAt: at.toISOString() };
}

/** Cognito logins of the tenant's users (the user items themselves go with the table phase). */
export function loginEraser(
  store: Pick<UserStore, 'listUsers'>,
  directory: Pick<IdentityDirectory, 'deleteUser'>,
  batch = 25,
): TenantEraser {
  return {
    name: 'logins',
    erase: async (tenantId, cursor) => {
      const page = await store.listUsers(tenantId, { limit: batch, ...(cursor ? { cursor } : {}) });
      let erased = 0;
      for (const user of page.items) {
        // A user without a login of its own must not touch the login that address has elsewhere.
        const login = loginOf(user);
        if (!login) continue;
        await directory.deleteUser(login);
        erased++;
      }
      return { erased, ...(page.nextCursor ? { cursor: page.nextCursor } : {}) };
    },
  };
}

/** Secret values in the vault, by the names the table knows (tenant secrets and webhook secrets). */
export function secretEraser(
  names: (tenantId: string, cursor?: string) => Promise<{ names: string[]; cursor?: string }>,
  vault: Pick<SecretVault, 'delete'>,
): TenantEraser {
  return {
    name: 'secrets',
    erase: async (tenantId, cursor) => {
      const page = await names(tenantId, cursor);
      for (const name of page.names) await vault.delete(tenantId, name);
      return { erased: page.names.length, ...(page.cursor ? { cursor: page.cursor } : {}) };
    },
  };
}

/** The tenant's workflow state machines (with their versions and aliases). */
export function stateMachineEraser(
  definitions: Pick<DefinitionStore, 'listHeads'>,
  /** On AWS it acts on the tenant's fenced credentials, so it reaches no other tenant's machines. */
  engine: Pick<WorkflowEngine, 'remove'>,
  batch = 25,
): TenantEraser {
  return {
    name: 'stateMachines',
    erase: async (tenantId, cursor) => {
      const page = await definitions.listHeads(tenantId, 'workflow', {
        limit: batch,
        ...(cursor ? { cursor } : {}),
      });
      let erased = 0;
      for (const head of page.items) {
        if (!head.stateMachineArn) continue;
        await engine.remove({ tenantId, stateMachineArn: head.stateMachineArn });
        erased++;
      }
      return { erased, ...(page.nextCursor ? { cursor: page.nextCursor } : {}) };
    },
  };
}

/**
 * Stops the tenant's running executions first, so none writes a step after its partition is
 * erased. Reads the executions list (newest first) one page per call.
 */
export function runningExecutionsEraser(
  executions: Pick<ExecutionStore, 'list'>,
  /** On AWS it acts on the tenant's fenced credentials, so it reaches no other tenant's executions. */
  engine: Pick<ExecutionEngine, 'stop'>,
  batch = 50,
): TenantEraser {
  return {
    name: 'executions',
    erase: async (tenantId, cursor) => {
      const page = await executions.list(tenantId, {}, { limit: batch, ...(cursor ? { cursor } : {}) });
      let stopped = 0;
      for (const execution of page.items) {
        if (execution.status !== 'RUNNING' && execution.status !== 'WAITING_APPROVAL') continue;
        if (!execution.engineArn) continue;
        await engine.stop({
          tenantId,
          engineArn: execution.engineArn,
          error: 'Tenant.Offboarded',
          cause: 'The tenant is being offboarded.',
        });
        stopped++;
      }
      return { erased: stopped, ...(page.nextCursor ? { cursor: page.nextCursor } : {}) };
    },
  };
}

import type { ExportDeps } from '#core/tenancy/exports.ts';
import type { JobRunner, OffboardingDeps } from '#core/tenancy/offboarding.ts';
import { artifacts, config, core, machines, rates, secrets, userPool } from '#shared/config.ts';
import { DynamoDefinitionStore } from '../dynamo/definition-store.ts';
import { DynamoExecutionStore } from '../dynamo/execution-store.ts';
import { DynamoExportSource, DynamoExportStore, DynamoOffboardingStore } from '../dynamo/lifecycle-store.ts';
import { DynamoUserStore } from '../dynamo/user-store.ts';
import { directoryOf, filesOf, notInThisFunction, tableOnly, vaultOf } from './base.ts';
import { offboardingPhases } from './offboarding.ts';
import { executionEngine, workflowRemover } from './step-functions.ts';

/** One batch of an offboarding job, and an export. */
export interface LifecycleWiring {
  readonly offboarding: Pick<OffboardingDeps, 'jobs' | 'erasers' | 'now'>;
  readonly exports: ExportDeps;
}

/** The lifecycle function's settings: offboarding deletes the tenant's logins from the pool. */
export const LIFECYCLE_SETTINGS = [core, userPool, secrets, artifacts, machines, rates] as const;

let wired: LifecycleWiring | undefined;

/** The lifecycle function's composition root: the job's phases and the export writer. */
export function lifecycleWiring(): LifecycleWiring {
  if (wired) return wired;
  const cfg = config(LIFECYCLE_SETTINGS);
  const { clients, table } = tableOnly(cfg);
  const directory = directoryOf(cfg);
  wired = {
    offboarding: {
      jobs: new DynamoOffboardingStore(table),
      erasers: offboardingPhases(cfg, {
        table,
        clients,
        // The one tenancy read erasure makes: the users whose logins go.
        store: new DynamoUserStore(table),
        directory,
        vault: vaultOf(cfg, clients),
        definitions: new DynamoDefinitionStore(table),
        executions: new DynamoExecutionStore(table),
        engine: executionEngine(cfg, clients),
        workflows: workflowRemover(cfg, clients),
      }),
      now: () => new Date(),
    },
    exports: {
      exports: new DynamoExportStore(table),
      source: new DynamoExportSource(table),
      files: filesOf(cfg, clients),
      // The API starts jobs; a job's own function never starts another.
      runner: notInThisFunction<JobRunner>('lifecycle job runner'),
      now: () => new Date(),
    },
  };
  return wired;
}

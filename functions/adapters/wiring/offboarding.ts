import type { ExecutionEngine, ExecutionStore } from '#core/executions/ports.ts';
import { SLOTS_PER_WINDOW } from '#core/governance/rate-limit.ts';
import {
  loginEraser,
  runningExecutionsEraser,
  secretEraser,
  stateMachineEraser,
  type TenantEraser,
} from '#core/tenancy/offboarding.ts';
import type { IdentityDirectory, SecretVault, TenancyStore } from '#core/tenancy/ports.ts';
import type { WorkflowEngine } from '#core/versioning/engine.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import type { Settings } from '#shared/config.ts';
import { DynamoTenantEraser, secretNames, tenantRecordEraser } from '../dynamo/lifecycle-store.ts';
import type { Table } from '../dynamo/table.ts';
import { S3PrefixEraser } from '../s3-tenant-data.ts';
import type { TenantTableClients } from '../tenant-credentials.ts';
import { s3For } from '../tenant-storage-clients.ts';

/** What the offboarding phases erase with. */
export interface ErasureParts {
  readonly table: Table;
  readonly clients: TenantTableClients;
  readonly store: Pick<TenancyStore, 'listUsers'>;
  readonly directory: Pick<IdentityDirectory, 'deleteUser'>;
  readonly vault: Pick<SecretVault, 'delete'>;
  readonly definitions: Pick<DefinitionStore, 'listHeads'>;
  readonly executions: Pick<ExecutionStore, 'list'>;
  /** On AWS each acts on the fenced credentials of the tenant it names (wiring/step-functions.ts). */
  readonly engine: Pick<ExecutionEngine, 'stop'>;
  readonly workflows: Pick<WorkflowEngine, 'remove'>;
}

/**
 * The offboarding job's phases, in order: the lifecycle function runs them, and the API lists their
 * names when it starts a job (both wire them from here, so the names cannot differ). A feature that
 * keeps tenant data outside the table plugs in with one line,
 * `eraserOf('<name>', (t) => store.deleteAllForTenant(t))`, here, or in the API's `inRequest`
 * (functions/adapters/wiring/api.ts) when only the API holds the rights.
 */
export function offboardingPhases(
  cfg: Settings<'ARTIFACT_BUCKET_NAME' | 'RATE_LIMITS' | 'MERIDIAN_MODE'>,
  parts: ErasureParts,
): TenantEraser[] {
  const bucket = cfg.ARTIFACT_BUCKET_NAME;
  const slotMs = (cfg.RATE_LIMITS.windowSeconds * 1000) / SLOTS_PER_WINDOW;
  return [
    runningExecutionsEraser(parts.executions, parts.engine),
    loginEraser(parts.store, parts.directory),
    secretEraser(secretNames(parts.table), parts.vault),
    stateMachineEraser(parts.definitions, parts.workflows),
    ...(bucket
      ? [new S3PrefixEraser((t) => s3For(parts.clients, t), bucket, cfg.MERIDIAN_MODE === 'aws')]
      : []),
    new DynamoTenantEraser(parts.table, { slotMs, windowSeconds: cfg.RATE_LIMITS.windowSeconds }),
    tenantRecordEraser(parts.table),
  ];
}

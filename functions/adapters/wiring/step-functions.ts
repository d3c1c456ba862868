import { SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionEngine } from '#core/executions/ports.ts';
import type { JobRunner } from '#core/tenancy/offboarding.ts';
import type { WorkflowEngine } from '#core/versioning/engine.ts';
import type { Settings } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import { SfnJobRunner } from '../job-runner.ts';
import { LocalEngine } from '../local-engine.ts';
import { SfnEngine, type SfnFor } from '../sfn-engine.ts';
import { SfnExecutionEngine } from '../sfn-executions.ts';
import type { TenantTableClients } from '../tenant-credentials.ts';
import { sfnFor } from '../tenant-storage-clients.ts';
import { requireSettings } from './base.ts';
import { localExecutionEngine, localJobRunner } from './local.ts';

/*
 * Step Functions for the composition roots that start, stop or publish state machines (the API, the
 * schedule fire function, the lifecycle function); the in-process stand-ins on the local platform.
 */

/** What publishing workflows reads. */
type WorkflowSettings = Settings<
  | 'MERIDIAN_MODE'
  | 'STATE_MACHINE_PREFIX'
  | 'STEP_RUNNER_ARN'
  | 'APPROVAL_HANDLER_ARN'
  | 'WORKFLOW_ROLE_ARN'
  | 'WORKFLOW_LOG_GROUP_ARN'
>;

let client: SFNClient | undefined;
function sfn(): SFNClient {
  client ??= tracer.captureAWSv3Client(new SFNClient({}));
  return client;
}

/** The Step Functions client of one tenant: its fenced credentials (a tenant data role), or `sfn()`. */
function tenantSfn(clients: TenantTableClients): SfnFor {
  return (tenantId) => sfnFor(clients, tenantId, sfn);
}

/**
 * Runs executions: Step Functions on AWS, the local runtime otherwise. On AWS starts, stops and
 * redrives go through the fenced credentials of the execution's tenant.
 */
export function executionEngine(
  cfg: Settings<'MERIDIAN_MODE'>,
  clients: TenantTableClients,
): ExecutionEngine {
  return cfg.MERIDIAN_MODE === 'aws' ? new SfnExecutionEngine(tenantSfn(clients), sfn) : localExecutionEngine;
}

/** Starts lifecycle jobs (offboarding, exports): their state machines on AWS. */
export function jobRunner(
  cfg: Settings<'MERIDIAN_MODE' | 'OFFBOARDING_STATE_MACHINE_ARN' | 'EXPORT_STATE_MACHINE_ARN'>,
): JobRunner {
  if (cfg.MERIDIAN_MODE !== 'aws') return localJobRunner;
  requireSettings('lifecycle jobs', {
    OFFBOARDING_STATE_MACHINE_ARN: cfg.OFFBOARDING_STATE_MACHINE_ARN,
    EXPORT_STATE_MACHINE_ARN: cfg.EXPORT_STATE_MACHINE_ARN,
  });
  return new SfnJobRunner(sfn(), {
    offboarding: String(cfg.OFFBOARDING_STATE_MACHINE_ARN),
    export: String(cfg.EXPORT_STATE_MACHINE_ARN),
  });
}

/** The settings workflows are published with, failing with every missing name at once. */
export function workflowSettings(cfg: WorkflowSettings) {
  requireSettings('workflows', {
    STATE_MACHINE_PREFIX: cfg.STATE_MACHINE_PREFIX,
    STEP_RUNNER_ARN: cfg.STEP_RUNNER_ARN,
    APPROVAL_HANDLER_ARN: cfg.APPROVAL_HANDLER_ARN,
    ...(cfg.MERIDIAN_MODE === 'aws'
      ? { WORKFLOW_ROLE_ARN: cfg.WORKFLOW_ROLE_ARN, WORKFLOW_LOG_GROUP_ARN: cfg.WORKFLOW_LOG_GROUP_ARN }
      : {}),
  });
  return {
    prefix: String(cfg.STATE_MACHINE_PREFIX),
    stepRunner: String(cfg.STEP_RUNNER_ARN),
    approvalHandler: String(cfg.APPROVAL_HANDLER_ARN),
    roleArn: String(cfg.WORKFLOW_ROLE_ARN),
    logGroupArn: String(cfg.WORKFLOW_LOG_GROUP_ARN),
  };
}

/**
 * Removes a tenant's state machines (offboarding), on the tenant's fenced credentials: IAM lets the
 * lifecycle function delete that tenant's machines and no other's (lib/constructs/tenant-data-role.ts).
 * Needs only the name prefix, not the settings workflows are published with.
 */
export function workflowRemover(
  cfg: Settings<'MERIDIAN_MODE' | 'STATE_MACHINE_PREFIX'>,
  clients: TenantTableClients,
): Pick<WorkflowEngine, 'remove'> {
  requireSettings('removing workflows', { STATE_MACHINE_PREFIX: cfg.STATE_MACHINE_PREFIX });
  const prefix = String(cfg.STATE_MACHINE_PREFIX);
  if (cfg.MERIDIAN_MODE === 'local') return new LocalEngine(prefix);
  // Strict: a machine left behind (access denied, throttled) fails the phase, which the job retries.
  const settings = { namePrefix: prefix, roleArn: '', logGroupArn: '', strictRemove: true };
  return new SfnEngine(tenantSfn(clients), settings);
}

/**
 * Publishes, promotes and removes workflow state machines: on AWS each call on the fenced credentials
 * of the tenant it names, so IAM, not only the code, keeps it to that tenant's machines.
 */
export function workflowEngine(cfg: WorkflowSettings, clients: TenantTableClients): WorkflowEngine {
  const settings = workflowSettings(cfg);
  if (cfg.MERIDIAN_MODE === 'local') return new LocalEngine(settings.prefix);
  return new SfnEngine(tenantSfn(clients), {
    namePrefix: settings.prefix,
    roleArn: settings.roleArn,
    logGroupArn: settings.logGroupArn,
  });
}

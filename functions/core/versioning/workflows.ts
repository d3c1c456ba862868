import type { Approval } from '../approvals/model.ts';
import type { ApprovalStore } from '../approvals/ports.ts';
import type { AgentDefinition } from '../catalog/model.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { Notify } from '../notifications/model.ts';
import { audited, type Caller } from '../tenancy/context.ts';
import { compileWorkflow } from '../workflows/compile.ts';
import { diffWorkflows, type WorkflowDiff } from '../workflows/diff.ts';
import type { WorkflowDefinition } from '../workflows/model.ts';
import { validateWorkflow } from '../workflows/validate.ts';
import { existing } from './definitions.ts';
import type { WorkflowEngine } from './engine.ts';
import type { Environment, Head, Pins, Version } from './model.ts';
import type { DefinitionStore } from './ports.ts';
import { collectReferences } from './references.ts';
import { secretsUsed } from './secret-bindings.ts';

/** What workflow use cases need. */
export interface WorkflowDeps {
  readonly definitions: DefinitionStore;
  readonly approvals: ApprovalStore;
  readonly engine: WorkflowEngine;
  /** ARNs compiled into every definition. */
  readonly arns: { readonly stepRunner: string; readonly approvalHandler: string };
  /** Tells approvers and subscribed channels about a prod promotion waiting for them; never throws. */
  readonly notify: Notify;
}

type WorkflowHead = Head<WorkflowDefinition>;
type WorkflowVersion = Version<WorkflowDefinition>;

/**
 * Validates a raw definition against the tenant's agents and tools and pins the exact versions it
 * uses now (including the tools of the agents it uses), so later edits never change this version.
 */
async function prepare(
  deps: WorkflowDeps,
  tenantId: string,
  input: unknown,
): Promise<{ definition: WorkflowDefinition; pins: Pins }> {
  const refs = collectReferences(input);
  const [agents, tools] = await Promise.all([
    existing(deps, tenantId, 'agent', refs.agents),
    existing(deps, tenantId, 'tool', refs.tools),
  ]);
  const definition = validateWorkflow(input, {
    agentExists: (id) => agents.has(id),
    toolExists: (id) => tools.has(id),
  });
  const agentPins: Record<string, number> = {};
  const toolPins: Record<string, number> = {};
  for (const [id, head] of agents) agentPins[id] = head.latestVersion;
  for (const [id, head] of tools) toolPins[id] = head.latestVersion;
  const agentTools = [...agents.values()].flatMap((a) => (a.definition as AgentDefinition).tools ?? []);
  const missing = agentTools.filter((t) => toolPins[t] === undefined);
  for (const [id, head] of await existing(deps, tenantId, 'tool', missing)) toolPins[id] = head.latestVersion;
  return { definition, pins: { agents: sortKeys(agentPins), tools: sortKeys(toolPins) } };
}

function sortKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : 1)));
}

function compile(
  deps: WorkflowDeps,
  workflowId: string,
  version: number,
  definition: WorkflowDefinition,
  pins: Pins,
): string {
  return compileWorkflow(definition, {
    stepRunnerArn: deps.arns.stepRunner,
    approvalHandlerArn: deps.arns.approvalHandler,
    pins,
    workflowId,
    version,
  }).json;
}

async function livePins(
  deps: WorkflowDeps,
  tenantId: string,
  head: WorkflowHead,
  latest: Pins,
  known?: WorkflowVersion,
): Promise<Pins> {
  const versions = new Set(Object.values(head.environments ?? {}));
  versions.delete(head.latestVersion);
  const agents: Record<string, number> = { ...latest.agents };
  const tools: Record<string, number> = { ...latest.tools };
  // Read together (one round trip), applied in the environments' order.
  const read = await Promise.all(
    [...versions].map((n) =>
      known?.version === n
        ? known
        : deps.definitions.getVersion<WorkflowDefinition>(tenantId, 'workflow', head.id, n),
    ),
  );
  for (const v of read) {
    Object.assign(agents, v?.pins?.agents ?? {}, latest.agents);
    Object.assign(tools, v?.pins?.tools ?? {}, latest.tools);
  }
  return { agents: sortKeys(agents), tools: sortKeys(tools) };
}

/** Creates a workflow at version 1: validated, pinned, compiled and published to the engine. */
export async function createWorkflow(
  deps: WorkflowDeps,
  caller: Caller,
  input: unknown,
): Promise<WorkflowHead> {
  const tenantId = caller.principal.tenantId;
  const { definition, pins } = await prepare(deps, tenantId, input);
  const id = newId('w');
  const asl = compile(deps, id, 1, definition, pins);
  const published = await deps.engine.publish({ tenantId, workflowId: id, version: 1, asl });
  const now = caller.meta.now;
  const who = caller.principal.principalId;
  const head: WorkflowHead = {
    id,
    kind: 'workflow',
    name: definition.name,
    latestVersion: 1,
    definition,
    createdAt: now,
    updatedAt: now,
    createdBy: who,
    updatedBy: who,
    environments: {},
    livePins: pins,
    stateMachineArn: published.stateMachineArn,
  };
  await deps.definitions.create(
    tenantId,
    head,
    {
      id,
      kind: 'workflow',
      version: 1,
      definition,
      pins,
      asl,
      engineVersionArn: published.versionArn,
      createdAt: now,
      createdBy: who,
    },
    audited(caller, {
      action: 'workflow.create',
      resourceType: 'workflow',
      resourceId: id,
      after: { definition, pins },
    }),
  );
  return head;
}

/** A workflow's head, or 404. */
export async function getWorkflow(deps: WorkflowDeps, tenantId: string, id: string): Promise<WorkflowHead> {
  const head = await deps.definitions.getHead<WorkflowDefinition>(tenantId, 'workflow', id);
  if (!head) throw new NotFoundError(`No workflow ${id}.`);
  return head;
}

/** The workflow's head (404 when there is none) and one of its versions, read together. */
async function headAndVersion(
  deps: WorkflowDeps,
  tenantId: string,
  id: string,
  version: number,
): Promise<{ previous: WorkflowHead; target: WorkflowVersion | undefined }> {
  const [previous, target] = await Promise.all([
    getWorkflow(deps, tenantId, id),
    deps.definitions.getVersion<WorkflowDefinition>(tenantId, 'workflow', id, version),
  ]);
  return { previous, target };
}

/** One version with its compiled ASL, or 404 (the workflow's first). */
export async function getWorkflowVersion(
  deps: WorkflowDeps,
  tenantId: string,
  id: string,
  version: number,
): Promise<WorkflowVersion> {
  const { target } = await headAndVersion(deps, tenantId, id, version);
  if (!target) throw new NotFoundError(`No version ${version} of workflow ${id}.`);
  return target;
}

async function addVersion(
  deps: WorkflowDeps,
  caller: Caller,
  previous: WorkflowHead,
  definition: WorkflowDefinition,
  pins: Pins,
  action: string,
  rolledBackFrom?: number,
): Promise<WorkflowHead> {
  const tenantId = caller.principal.tenantId;
  const n = previous.latestVersion + 1;
  const asl = compile(deps, previous.id, n, definition, pins);
  const published = await deps.engine.publish({
    tenantId,
    workflowId: previous.id,
    version: n,
    asl,
    ...(previous.stateMachineArn ? { stateMachineArn: previous.stateMachineArn } : {}),
  });
  const now = caller.meta.now;
  const who = caller.principal.principalId;
  const next: WorkflowHead = {
    ...previous,
    name: definition.name,
    latestVersion: n,
    definition,
    updatedAt: now,
    updatedBy: who,
    stateMachineArn: published.stateMachineArn,
    livePins: await livePins(deps, tenantId, { ...previous, latestVersion: n }, pins),
  };
  await deps.definitions.saveHead(
    tenantId,
    next,
    previous,
    {
      id: previous.id,
      kind: 'workflow',
      version: n,
      definition,
      pins,
      asl,
      engineVersionArn: published.versionArn,
      createdAt: now,
      createdBy: who,
      ...(rolledBackFrom ? { rolledBackFrom } : {}),
    },
    audited(caller, {
      action,
      resourceType: 'workflow',
      resourceId: previous.id,
      before: { version: previous.latestVersion },
      after: { version: n, pins, ...(rolledBackFrom ? { rolledBackFrom } : {}) },
    }),
  );
  return next;
}

/** PUT: a new immutable version, pinned to the agents' and tools' versions of this moment. */
export async function updateWorkflow(
  deps: WorkflowDeps,
  caller: Caller,
  id: string,
  input: unknown,
): Promise<WorkflowHead> {
  const previous = await getWorkflow(deps, caller.principal.tenantId, id);
  const { definition, pins } = await prepare(deps, caller.principal.tenantId, input);
  return addVersion(deps, caller, previous, definition, pins, 'workflow.update');
}

/** A new version equal to an old one (its definition and its pins). */
export async function rollbackWorkflow(
  deps: WorkflowDeps,
  caller: Caller,
  id: string,
  version: number,
): Promise<WorkflowHead> {
  const tenantId = caller.principal.tenantId;
  const previous = await getWorkflow(deps, tenantId, id);
  const old = await deps.definitions.getVersion<WorkflowDefinition>(tenantId, 'workflow', id, version);
  if (!old)
    throw new ValidationError(`Workflow ${id} has no version ${version}.`, [
      { path: 'version', message: 'no such version' },
    ]);
  return addVersion(
    deps,
    caller,
    previous,
    old.definition,
    old.pins ?? { agents: {}, tools: {} },
    'workflow.rollback',
    version,
  );
}

/** Structured diff of two versions. */
export async function diffVersions(
  deps: WorkflowDeps,
  tenantId: string,
  id: string,
  from: number,
  to: number,
): Promise<WorkflowDiff & { from: number; to: number }> {
  const [a, b] = await Promise.all([
    getWorkflowVersion(deps, tenantId, id, from),
    getWorkflowVersion(deps, tenantId, id, to),
  ]);
  return { from, to, ...diffWorkflows(a.definition, b.definition) };
}

/** Deletes a workflow; refused while any environment still points at a version. */
export async function deleteWorkflow(deps: WorkflowDeps, caller: Caller, id: string): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const head = await getWorkflow(deps, tenantId, id);
  const promoted = Object.entries(head.environments ?? {}).filter(([env]) => env !== 'dev');
  if (promoted.length > 0) {
    throw new ConflictError(
      `Workflow ${id} is live in ${promoted.map(([e, v]) => `${e} (version ${v})`).join(', ')}; it cannot be deleted.`,
    );
  }
  await deps.definitions.deleteHead(
    tenantId,
    head,
    audited(caller, {
      action: 'workflow.delete',
      resourceType: 'workflow',
      resourceId: id,
      before: { latestVersion: head.latestVersion },
    }),
  );
  // After the record, so a failure leaves an idle state machine (README, Clean up), never a
  // workflow whose state machine is gone.
  if (head.stateMachineArn) await deps.engine.remove({ tenantId, stateMachineArn: head.stateMachineArn });
}

/**
 * Points an environment at a version now: the engine alias first, then the record. A decided
 * promotion approval (functions/core/approvals/promotions.ts) applies through here too.
 */
export async function applyPromotion(
  deps: WorkflowDeps,
  caller: Caller,
  id: string,
  version: number,
  environment: Environment,
  approvalId?: string,
  read?: { previous: WorkflowHead; target: WorkflowVersion },
): Promise<WorkflowHead> {
  const tenantId = caller.principal.tenantId;
  const { previous, target } = read ?? (await headAndVersion(deps, tenantId, id, version));
  if (!target) throw new NotFoundError(`No version ${version} of workflow ${id}.`);
  if (previous.stateMachineArn && target.engineVersionArn) {
    await deps.engine.promote({
      tenantId,
      workflowId: id,
      stateMachineArn: previous.stateMachineArn,
      environment,
      versionArn: target.engineVersionArn,
      ...(target.asl ? { asl: target.asl } : {}),
    });
  }
  const environments = { ...(previous.environments ?? {}), [environment]: version };
  const latest = (previous.latestVersion === version
    ? target
    : await deps.definitions.getVersion<WorkflowDefinition>(tenantId, 'workflow', id, previous.latestVersion)
  )?.pins ?? { agents: {}, tools: {} };
  const next: WorkflowHead = {
    ...previous,
    environments,
    updatedAt: caller.meta.now,
    updatedBy: caller.principal.principalId,
  };
  const withPins = { ...next, livePins: await livePins(deps, tenantId, next, latest, target) };
  await deps.definitions.saveHead(
    tenantId,
    withPins,
    previous,
    undefined,
    audited(caller, {
      action: 'workflow.promote',
      resourceType: 'workflow',
      resourceId: id,
      before: { environment, version: previous.environments?.[environment] ?? null },
      after: { environment, version, ...(approvalId ? { approvalId } : {}) },
    }),
  );
  return withPins;
}

/**
 * The secrets a workflow version uses: those its pinned agent and tool versions name. The approver
 * of a prod promotion sees them, because promoting puts those secrets to work in prod.
 */
export async function secretsOfVersion(
  deps: WorkflowDeps,
  tenantId: string,
  version: WorkflowVersion,
): Promise<string[]> {
  const pinned = [
    ...Object.entries(version.pins?.agents ?? {}).map(([id, v]) => ['agent', id, v] as const),
    ...Object.entries(version.pins?.tools ?? {}).map(([id, v]) => ['tool', id, v] as const),
  ];
  const names = await Promise.all(
    pinned.map(async ([kind, id, v]) => {
      const pinnedVersion = await deps.definitions.getVersion(tenantId, kind, id, v);
      return secretsUsed(kind, pinnedVersion?.definition).map((u) => u.secret);
    }),
  );
  return [...new Set(names.flat())].sort();
}

/** Result of a promotion request: applied now (dev, staging) or waiting for a second person (prod). */
export type PromotionResult =
  | { readonly status: 'applied'; readonly workflow: WorkflowHead }
  | { readonly status: 'pending'; readonly approval: Approval };

/** Promotes a version; prod needs another person's approval. */
export async function requestPromotion(
  deps: WorkflowDeps,
  caller: Caller,
  id: string,
  input: { version: number; environment: Environment },
): Promise<PromotionResult> {
  const tenantId = caller.principal.tenantId;
  // A missing workflow is a 404; a missing version of it is a problem with the request's `version`.
  const { previous, target: found } = await headAndVersion(deps, tenantId, id, input.version);
  if (!found) {
    throw new ValidationError(`No version ${input.version} of workflow ${id}.`, [
      { path: 'version', message: 'no such version' },
    ]);
  }
  if (input.environment !== 'prod') {
    return {
      status: 'applied',
      workflow: await applyPromotion(deps, caller, id, input.version, input.environment, undefined, {
        previous,
        target: found,
      }),
    };
  }
  const approval: Approval = {
    approvalId: newId('p'),
    kind: 'promotion',
    status: 'pending',
    workflowId: id,
    version: input.version,
    environment: 'prod',
    requestedBy: caller.principal.principalId,
    ...(caller.principal.onBehalfOf ? { requestedFor: caller.principal.onBehalfOf } : {}),
    message: `Promote workflow ${id} version ${input.version} to prod`,
    secrets: await secretsOfVersion(deps, tenantId, found),
    createdAt: caller.meta.now,
  };
  await deps.approvals.create(
    tenantId,
    approval,
    audited(caller, {
      action: 'promotion.request',
      resourceType: 'approval',
      resourceId: approval.approvalId,
      after: approval,
    }),
  );
  await deps.notify({
    type: 'approval.pending',
    tenantId,
    at: caller.meta.now,
    approvalId: approval.approvalId,
    kind: 'promotion',
    workflowId: approval.workflowId,
    message: approval.message,
    requestedBy: approval.requestedBy,
    requestedFor: approval.requestedFor,
  });
  return { status: 'pending', approval };
}

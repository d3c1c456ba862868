import { type AgentDefinition, type ToolDefinition, validateAgent, validateTool } from '../catalog/model.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';
import { audited, type Caller, readAll } from '../tenancy/context.ts';
import type { Page, PageRequest } from '../tenancy/model.ts';
import type { DefinitionKind, Head, Version } from './model.ts';
import type { DefinitionStore } from './ports.ts';
import { collectReferences } from './references.ts';
import { bindSecrets, type SecretUseDeps } from './secret-bindings.ts';

/** Agents and tools: what their use cases need. */
export interface CatalogDeps {
  readonly definitions: DefinitionStore;
}

type CatalogKind = Extract<DefinitionKind, 'agent' | 'tool'>;
type DefinitionOf<K extends CatalogKind> = K extends 'agent' ? AgentDefinition : ToolDefinition;

/** Which of `ids` exist as heads of `kind` in the tenant (one read each, in parallel). */
export async function existing(
  deps: CatalogDeps,
  tenantId: string,
  kind: DefinitionKind,
  ids: Iterable<string>,
): Promise<Map<string, Head<unknown>>> {
  const found = new Map<string, Head<unknown>>();
  await Promise.all(
    [...ids].slice(0, 200).map(async (id) => {
      const head = await deps.definitions.getHead(tenantId, kind, id);
      if (head) found.set(id, head);
    }),
  );
  return found;
}

async function validate<K extends CatalogKind>(
  deps: CatalogDeps,
  tenantId: string,
  kind: K,
  input: unknown,
): Promise<DefinitionOf<K>> {
  if (kind === 'tool') return validateTool(input) as DefinitionOf<K>;
  const tools = await existing(deps, tenantId, 'tool', collectReferences(input).tools);
  return validateAgent(input, { toolExists: (id) => tools.has(id) }) as DefinitionOf<K>;
}

/** Creates an agent or tool at version 1. */
export async function createDefinition<K extends CatalogKind>(
  deps: CatalogDeps & SecretUseDeps,
  caller: Caller,
  kind: K,
  input: unknown,
): Promise<Head<DefinitionOf<K>>> {
  const tenantId = caller.principal.tenantId;
  const definition = await validate(deps, tenantId, kind, input);
  const secretBindings = await bindSecrets(deps, caller, kind, definition);
  const bound = secretBindings.length > 0 ? { secretBindings } : {};
  const id = newId(kind === 'agent' ? 'a' : 'o');
  const now = caller.meta.now;
  const who = caller.principal.principalId;
  const head: Head<DefinitionOf<K>> = {
    id,
    kind,
    name: definition.name,
    latestVersion: 1,
    definition,
    createdAt: now,
    updatedAt: now,
    createdBy: who,
    updatedBy: who,
    ...bound,
  };
  const version: Version<DefinitionOf<K>> = {
    id,
    kind,
    version: 1,
    definition,
    createdAt: now,
    createdBy: who,
    ...bound,
  };
  await deps.definitions.create(
    tenantId,
    head,
    version,
    audited(caller, { action: `${kind}.create`, resourceType: kind, resourceId: id, after: definition }),
  );
  return head;
}

/** The latest version of an agent or tool, or 404. */
export async function getDefinition<D>(
  deps: CatalogDeps,
  tenantId: string,
  kind: DefinitionKind,
  id: string,
): Promise<Head<D>> {
  const head = await deps.definitions.getHead<D>(tenantId, kind, id);
  if (!head) throw new NotFoundError(`No ${kind} ${id}.`);
  return head;
}

/** Lists heads. */
export function listDefinitions<D>(
  deps: CatalogDeps,
  tenantId: string,
  kind: DefinitionKind,
  page: PageRequest,
): Promise<Page<Head<D>>> {
  return deps.definitions.listHeads<D>(tenantId, kind, page);
}

/** One version, or 404. */
export async function getDefinitionVersion<D>(
  deps: CatalogDeps,
  tenantId: string,
  kind: DefinitionKind,
  id: string,
  version: number,
): Promise<Version<D>> {
  await getDefinition(deps, tenantId, kind, id);
  const found = await deps.definitions.getVersion<D>(tenantId, kind, id, version);
  if (!found) throw new NotFoundError(`No version ${version} of ${kind} ${id}.`);
  return found;
}

/** Versions, newest first. */
export async function listDefinitionVersions<D>(
  deps: CatalogDeps,
  tenantId: string,
  kind: DefinitionKind,
  id: string,
  page: PageRequest,
): Promise<Page<Version<D>>> {
  await getDefinition(deps, tenantId, kind, id);
  return deps.definitions.listVersions<D>(tenantId, kind, id, page);
}

/** Replaces an agent or tool with a new immutable version (published workflows keep their pins). */
export async function updateDefinition<K extends CatalogKind>(
  deps: CatalogDeps & SecretUseDeps,
  caller: Caller,
  kind: K,
  id: string,
  input: unknown,
): Promise<Head<DefinitionOf<K>>> {
  const tenantId = caller.principal.tenantId;
  const previous = await getDefinition<DefinitionOf<K>>(deps, tenantId, kind, id);
  const definition = await validate(deps, tenantId, kind, input);
  const secretBindings = await bindSecrets(deps, caller, kind, definition);
  const bound = secretBindings.length > 0 ? { secretBindings } : {};
  const n = previous.latestVersion + 1;
  const now = caller.meta.now;
  const who = caller.principal.principalId;
  const { secretBindings: _old, ...rest } = previous;
  const next: Head<DefinitionOf<K>> = {
    ...rest,
    name: definition.name,
    latestVersion: n,
    definition,
    updatedAt: now,
    updatedBy: who,
    ...bound,
  };
  await deps.definitions.saveHead(
    tenantId,
    next,
    previous,
    { id, kind, version: n, definition, createdAt: now, createdBy: who, ...bound },
    audited(caller, {
      action: `${kind}.update`,
      resourceType: kind,
      resourceId: id,
      before: previous.definition,
      after: definition,
    }),
  );
  return next;
}

/**
 * Deletes an agent or tool. Refused with 409, naming them, while a live workflow version (latest or
 * promoted) pins it, or (tools) while a current agent lists it.
 */
export async function deleteDefinition(
  deps: CatalogDeps,
  caller: Caller,
  kind: CatalogKind,
  id: string,
): Promise<void> {
  const tenantId = caller.principal.tenantId;
  const head = await getDefinition(deps, tenantId, kind, id);
  const workflows = await readAll((p) => deps.definitions.listHeads(tenantId, 'workflow', p));
  const users = workflows
    .filter((w) => (kind === 'agent' ? w.livePins?.agents[id] : w.livePins?.tools[id]) !== undefined)
    .map((w) => `workflow ${w.id} (${w.name})`);
  if (kind === 'tool') {
    const agents = await readAll((p) => deps.definitions.listHeads<AgentDefinition>(tenantId, 'agent', p));
    users.push(
      ...agents.filter((a) => a.definition.tools?.includes(id)).map((a) => `agent ${a.id} (${a.name})`),
    );
  }
  if (users.length > 0) {
    throw new ConflictError(
      `The ${kind} ${id} is in use by ${users.slice(0, 10).join(', ')}${users.length > 10 ? ', …' : ''}.`,
    );
  }
  await deps.definitions.deleteHead(
    tenantId,
    head,
    audited(caller, {
      action: `${kind}.delete`,
      resourceType: kind,
      resourceId: id,
      before: head.definition,
    }),
  );
}

import { ID_PATTERN } from '#core/ids.ts';
import type { DefinitionKind } from '#core/versioning/model.ts';

/**
 * Every key of the single table starts from here: every tenant-owned key starts with
 * `TENANT#<tenantId>` (functions/adapters/dynamo/keys.ts).
 */

/** A primary key. */
export interface Key {
  readonly pk: string;
  readonly sk: string;
}

/** GSI1 key attributes. */
export interface Gsi1 {
  readonly gsi1pk: string;
  readonly gsi1sk: string;
}

/** Thrown when a tenant id is not of the generated shape: a guard against key injection. */
export class InvalidTenantIdError extends Error {}

/** `TENANT#<id>`, refusing anything that is not a generated tenant id (so no `#` can sneak in). */
export function tenantPk(tenantId: string): string {
  if (!ID_PATTERN.test(tenantId) || !tenantId.startsWith('t')) {
    throw new InvalidTenantIdError(`Not a tenant id: ${JSON.stringify(tenantId)}`);
  }
  return `TENANT#${tenantId}`;
}

/** Zero-padded so that string order is numeric order. */
export function pad(n: number, width = 6): string {
  return String(n).padStart(width, '0');
}

/** Sort-key prefix of a definition's head, by kind. */
export const HEAD_PREFIX: Record<DefinitionKind, string> = {
  agent: 'AGENT#',
  tool: 'TOOL#',
  workflow: 'WORKFLOW#',
};
/** Sort-key prefix of a definition's versions, by kind. */
export const VERSION_PREFIX: Record<DefinitionKind, string> = {
  agent: 'AGENTVER#',
  tool: 'TOOLVER#',
  workflow: 'WFVER#',
};

import type { DefinitionKind } from '#core/versioning/model.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { HEAD_PREFIX, type Key, pad, tenantPk, VERSION_PREFIX } from './tenant-key.ts';

/**
 * Every key of the single table is built here, and every tenant-owned key starts with
 * `TENANT#<tenantId>`: no query can be written without naming a tenant, and IAM
 * `dynamodb:LeadingKeys` can fence each tenant to its own partitions.
 */

export { type Key, tenantPk } from './tenant-key.ts';

/** The index name and attribute names, re-exported for queries. */
export const INDEX = TABLE_SCHEMA.gsi1;

/** Key of a definition's head (agent, tool, workflow). */
export const headKey = (t: string, kind: DefinitionKind, id: string): Key => ({
  pk: tenantPk(t),
  sk: `${HEAD_PREFIX[kind]}${id}`,
});

/** Key of one immutable version of a definition. */
export const versionKey = (t: string, kind: DefinitionKind, id: string, v: number): Key => ({
  pk: tenantPk(t),
  sk: `${VERSION_PREFIX[kind]}${id}#V#${pad(v)}`,
});

/** Key builders, one per item kind (functions/adapters/dynamo/item-keys.ts). */
export * as keys from './item-keys.ts';

import type {
  ApiKeyStore,
  AuditLog,
  RoleStore,
  SecretMetaStore,
  TeamStore,
  TenancyStore,
  TenantStore,
  UserStore,
} from '#core/tenancy/ports.ts';
import { DynamoApiKeyStore } from './api-key-store.ts';
import { DynamoAuditLog } from './audit-log.ts';
import { DynamoRoleStore } from './role-store.ts';
import { DynamoSecretMetaStore } from './secret-meta-store.ts';
import type { Table } from './table.ts';
import { DynamoTeamStore } from './team-store.ts';
import { DynamoTenantStore } from './tenant-store.ts';
import { DynamoUserStore } from './user-store.ts';

/**
 * The methods of a store, bound to it, as own properties: class methods live on the prototype, so
 * an object spread alone would drop them.
 */
function methodsOf<S extends object>(store: S): S {
  const out: Record<string, unknown> = {};
  for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(store))) {
    const value: unknown = Reflect.get(store, name);
    if (name !== 'constructor' && typeof value === 'function') out[name] = value.bind(store);
  }
  return out as S;
}

/** The focused DynamoDB tenancy stores over the single table, as the one object the wiring hands around. */
export function dynamoTenancyStore(table: Table): TenancyStore {
  return {
    ...methodsOf<TenantStore>(new DynamoTenantStore(table)),
    ...methodsOf<UserStore>(new DynamoUserStore(table)),
    ...methodsOf<TeamStore>(new DynamoTeamStore(table)),
    ...methodsOf<RoleStore>(new DynamoRoleStore(table)),
    ...methodsOf<ApiKeyStore>(new DynamoApiKeyStore(table)),
    ...methodsOf<SecretMetaStore>(new DynamoSecretMetaStore(table)),
    ...methodsOf<AuditLog>(new DynamoAuditLog(table)),
  };
}

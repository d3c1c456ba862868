import type {
  ApiKeyStore,
  AuditLog,
  RoleStore,
  SecretMetaStore,
  TeamStore,
  TenantStore,
  UserStore,
} from '#core/tenancy/ports.ts';
import type { UserDeps } from '#core/tenancy/users.ts';

/**
 * Typed fakes of the focused tenancy stores (functions/core/tenancy/ports.ts): a test gives the
 * methods it expects, and every other method fails the test when called, so an unexpected read or
 * write does not pass silently. Fakes of several stores combine by spreading:
 * `{ ...fakeUsers({ getUser }), ...fakeRoles({ getRoles }) }`.
 */

/** A method the test did not expect: calling it rejects, naming it. */
export function unexpected(name: string): (...args: never[]) => Promise<never> {
  return async () => {
    throw new Error(`unexpected store.${name}`);
  };
}

export function fakeTenants(methods: Partial<TenantStore> = {}): TenantStore {
  return {
    createTenant: unexpected('createTenant'),
    getTenant: unexpected('getTenant'),
    listTenants: unexpected('listTenants'),
    updateTenant: unexpected('updateTenant'),
    ...methods,
  };
}

export function fakeUsers(methods: Partial<UserStore> = {}): UserStore {
  return {
    createUser: unexpected('createUser'),
    getUser: unexpected('getUser'),
    listUsers: unexpected('listUsers'),
    updateUser: unexpected('updateUser'),
    deleteUser: unexpected('deleteUser'),
    eraseUser: unexpected('eraseUser'),
    findUserBySub: unexpected('findUserBySub'),
    ...methods,
  };
}

export function fakeTeams(methods: Partial<TeamStore> = {}): TeamStore {
  return {
    createTeam: unexpected('createTeam'),
    getTeam: unexpected('getTeam'),
    listTeams: unexpected('listTeams'),
    updateTeam: unexpected('updateTeam'),
    deleteTeam: unexpected('deleteTeam'),
    ...methods,
  };
}

export function fakeRoles(methods: Partial<RoleStore> = {}): RoleStore {
  return {
    createRole: unexpected('createRole'),
    getRole: unexpected('getRole'),
    getRoles: unexpected('getRoles'),
    listRoles: unexpected('listRoles'),
    updateRole: unexpected('updateRole'),
    deleteRole: unexpected('deleteRole'),
    ...methods,
  };
}

export function fakeApiKeys(methods: Partial<ApiKeyStore> = {}): ApiKeyStore {
  return {
    createApiKey: unexpected('createApiKey'),
    getApiKey: unexpected('getApiKey'),
    listApiKeys: unexpected('listApiKeys'),
    updateApiKey: unexpected('updateApiKey'),
    touchApiKey: unexpected('touchApiKey'),
    ...methods,
  };
}

export function fakeSecretMeta(methods: Partial<SecretMetaStore> = {}): SecretMetaStore {
  return {
    putSecretMeta: unexpected('putSecretMeta'),
    getSecretMeta: unexpected('getSecretMeta'),
    listSecrets: unexpected('listSecrets'),
    deleteSecretMeta: unexpected('deleteSecretMeta'),
    ...methods,
  };
}

export function fakeAuditLog(methods: Partial<AuditLog> = {}): AuditLog {
  return {
    listAudit: unexpected('listAudit'),
    recordAuthEvent: unexpected('recordAuthEvent'),
    readAuditRecords: unexpected('readAuditRecords'),
    ...methods,
  };
}

/** The stores the user use cases take (`UserDeps['store']`): users, and the roles, teams and keys. */
export function fakeUserStores(methods: Partial<UserDeps['store']> = {}): UserDeps['store'] {
  return { ...fakeUsers(), ...fakeRoles(), ...fakeTeams(), ...fakeApiKeys(), ...methods };
}

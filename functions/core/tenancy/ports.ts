import type { AuthEvent } from '../access/authenticate.ts';
import type { AuditContext, AuditRecord } from '../audit/audit.ts';
import type { ApiKeyRecord, Page, PageRequest, Role, SecretMeta, Team, Tenant, User } from './model.ts';

// Persistence of tenancy and access data, one focused store per kind of record. Every mutating
// method takes the audit context and writes the audit record in the same transaction as the change:
// both land or neither does.

/** Tenants. */
export interface TenantStore {
  /** Writes the tenant with its first admin (user and email items), in one transaction. */
  createTenant(tenant: Tenant, admin: User, audit: AuditContext): Promise<void>;
  getTenant(tenantId: string): Promise<Tenant | undefined>;
  listTenants(page: PageRequest): Promise<Page<Tenant>>;
  updateTenant(next: Tenant, previous: Tenant, audit: AuditContext): Promise<void>;
}

/** Users of a tenant (their logins live in the {@link IdentityDirectory}). */
export interface UserStore {
  createUser(user: User, audit: AuditContext): Promise<void>;
  getUser(tenantId: string, userId: string): Promise<User | undefined>;
  listUsers(tenantId: string, page: PageRequest): Promise<Page<User>>;
  updateUser(next: User, previous: User, audit: AuditContext): Promise<void>;
  deleteUser(user: User, audit: AuditContext): Promise<void>;
  /** Replaces the profile with its erased form and deletes the email item, in one transaction. */
  eraseUser(erased: User, previous: User, audit: AuditContext): Promise<void>;
  /** Login → user; used by the authorizer (any tenant). */
  findUserBySub(sub: string): Promise<User | undefined>;
}

/** Teams. A team write also moves the members' `teams` lists, in the same transaction. */
export interface TeamStore {
  createTeam(
    tenantId: string,
    team: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void>;
  getTeam(tenantId: string, teamId: string): Promise<Team | undefined>;
  listTeams(tenantId: string, page: PageRequest): Promise<Page<Team>>;
  updateTeam(
    tenantId: string,
    next: Team,
    previous: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void>;
  deleteTeam(
    tenantId: string,
    team: Team,
    members: readonly UserChange[],
    audit: AuditContext,
  ): Promise<void>;
}

/** Custom roles (the built-in ones live in code). */
export interface RoleStore {
  createRole(tenantId: string, role: Role, audit: AuditContext): Promise<void>;
  getRole(tenantId: string, name: string): Promise<Role | undefined>;
  /** The roles of these names that exist, in one read. */
  getRoles(tenantId: string, names: readonly string[]): Promise<readonly Role[]>;
  listRoles(tenantId: string, page: PageRequest): Promise<Page<Role>>;
  updateRole(tenantId: string, next: Role, previous: Role, audit: AuditContext): Promise<void>;
  deleteRole(tenantId: string, role: Role, audit: AuditContext): Promise<void>;
}

/** API keys (hashes only, never a secret). */
export interface ApiKeyStore {
  createApiKey(tenantId: string, key: ApiKeyRecord, audit: AuditContext): Promise<void>;
  getApiKey(tenantId: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(tenantId: string, page: PageRequest): Promise<Page<ApiKeyRecord>>;
  updateApiKey(
    tenantId: string,
    next: ApiKeyRecord,
    previous: ApiKeyRecord,
    audit: AuditContext,
  ): Promise<void>;
  /** Records use without an audit record (not a mutation of the key's meaning). */
  touchApiKey(tenantId: string, keyId: string, at: string): Promise<void>;
}

/** What the table knows of a tenant's secrets (the values live in the {@link SecretVault}). */
export interface SecretMetaStore {
  putSecretMeta(
    tenantId: string,
    next: SecretMeta,
    previous: SecretMeta | undefined,
    audit: AuditContext,
  ): Promise<void>;
  getSecretMeta(tenantId: string, name: string): Promise<SecretMeta | undefined>;
  listSecrets(tenantId: string, page: PageRequest): Promise<Page<SecretMeta>>;
  deleteSecretMeta(tenantId: string, meta: SecretMeta, audit: AuditContext): Promise<void>;
}

/** A tenant's audit trail: read by auditors, and written by the authorizer for auth events. */
export interface AuditLog {
  listAudit(tenantId: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>>;
  /**
   * Audits an authentication event (a refused credential, an API key's use): a record item of its
   * own, written with UpdateItem (all the authorizer may write).
   */
  recordAuthEvent(tenantId: string, event: AuthEvent): Promise<void>;
  /** Every record still in the table, in id (time) order, for verification. */
  readAuditRecords(tenantId: string): Promise<AuditRecord[]>;
}

/**
 * All the tenancy stores as one object: what the wiring builds once and hands to routes and handlers.
 * Use cases take only the focused stores above that they use.
 */
export type TenancyStore = TenantStore &
  UserStore &
  TeamStore &
  RoleStore &
  ApiKeyStore &
  SecretMetaStore &
  AuditLog;

/** A user record rewritten as part of another change (team membership). */
export interface UserChange {
  readonly next: User;
  readonly previous: User;
}

/** Filters of `GET /audit`. */
export interface AuditFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly resource?: string;
  readonly from?: string;
  readonly to?: string;
}

/** The user directory (Cognito): logins live there, tenancy data in the store. */
export interface IdentityDirectory {
  /** Creates a login bound to `tenantId` and sends the invitation; returns the user's `sub`. */
  createUser(email: string, tenantId: string): Promise<{ sub: string }>;
  disableUser(email: string): Promise<void>;
  enableUser(email: string): Promise<void>;
  deleteUser(email: string): Promise<void>;
}

/** Where secret values live (Secrets Manager on AWS, an encrypted file store locally). */
export interface SecretVault {
  put(tenantId: string, name: string, value: string, description?: string): Promise<void>;
  get(tenantId: string, name: string): Promise<string | undefined>;
  delete(tenantId: string, name: string): Promise<void>;
}

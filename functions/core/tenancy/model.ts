import type { Permission } from '../access/permissions.ts';

/** Plans a tenant can be on. */
export const PLANS = ['free', 'pro', 'enterprise'] as const;
export type Plan = (typeof PLANS)[number];

/** Tenant statuses a platform admin sets; a suspended tenant's every request is refused. */
export const TENANT_STATUSES = ['active', 'suspended'] as const;
export type TenantStatus = (typeof TENANT_STATUSES)[number];

/**
 * Every status a tenant can be in: `offboarding` is set only by `DELETE /tenants/{id}` and never
 * left (its requests are refused like a suspended tenant's while the job erases its data).
 */
export const TENANT_STATES = [...TENANT_STATUSES, 'offboarding'] as const;
export type TenantState = (typeof TENANT_STATES)[number];

/** An organisation using Meridian. */
export interface Tenant {
  readonly tenantId: string;
  readonly name: string;
  readonly plan: Plan;
  readonly status: TenantState;
  readonly adminEmail: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Private-network egress destinations, set only by a platform admin (core/net/egress.ts). */
  readonly egressAllowlist?: readonly string[];
  /**
   * Single sign-on is required: only users provisioned by the tenant's identity providers (and the
   * tenant's first admin, the break-glass account) may sign in, and keys work only for them.
   */
  readonly requireSso?: boolean;
  /** Days an execution (its record, steps and artifacts) is kept after it ends; unset: kept. */
  readonly executionRetentionDays?: number;
}

/** A person in one tenant; `userId` is their Cognito `sub`. */
export interface User {
  readonly userId: string;
  readonly tenantId: string;
  /** Absent once the person was erased (`erasedAt`): the profile keeps only the opaque id. */
  readonly email?: string;
  readonly roles: readonly string[];
  readonly teams: readonly string[];
  readonly status: 'active' | 'disabled';
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * Set when the invited email already had a login elsewhere (another tenant, or a platform
   * operator): the invitation is recorded but no login was made, so the directory is never asked to
   * disable, enable or delete that other login. Stored only: never in a response or an audit record,
   * which would reveal that the address exists elsewhere.
   */
  readonly noLogin?: true;
  /**
   * Set for users made by single sign-on: the provider whose groups decide their roles, the
   * directory's name of their login (on AWS the federated user Cognito made, not their email), and
   * when that provider was deleted (they are then no longer an SSO user: functions/core/access/sso.ts).
   */
  readonly sso?: {
    readonly providerId: string;
    readonly login?: string;
    readonly providerRemovedAt?: string;
  };
  /** When the person's personal data was erased (POST /users/{id}/erasure). */
  readonly erasedAt?: string;
}

/**
 * The directory login a user owns, by the name the directory knows it by; undefined when they own
 * none. A single sign-on user's login is the one their sign-in made: acting on their email instead
 * would reach whoever holds a password login with that address, possibly in another tenant.
 */
export function loginOf(user: Pick<User, 'noLogin' | 'email' | 'sso'>): string | undefined {
  if (user.noLogin || !user.email) return undefined;
  return user.sso ? user.sso.login : user.email;
}

/** A named group of users. Membership is kept on the users (`User.teams`), the one source of truth. */
export interface Team {
  readonly teamId: string;
  readonly name: string;
  readonly description?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A named set of permissions; built-ins come from code and are read-only. */
export interface Role {
  readonly name: string;
  readonly description?: string;
  readonly permissions: readonly Permission[];
  readonly builtIn: boolean;
  readonly createdAt?: string;
  readonly updatedAt?: string;
}

/** An API key as stored: only hashes of its secret, never the secret. */
export interface ApiKeyRecord {
  readonly keyId: string;
  readonly name: string;
  readonly scopes: readonly Permission[];
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt?: string;
  readonly status: 'active' | 'revoked';
  readonly secretHash: string;
  /** After a rotation, the previous secret's hash stays valid until `previousValidUntil`. */
  readonly previousSecretHash?: string;
  readonly previousValidUntil?: string;
  readonly rotatedAt?: string;
  /** Who rotated it last: the user, or for a key acting, the key's creator (also in the audit record). */
  readonly rotatedBy?: string;
  readonly revokedAt?: string;
  /** Who revoked it: a user, the creator behind a key, or `system` when its creator lost access. */
  readonly revokedBy?: string;
}

/** A secret's metadata; the value lives in the secret store and never comes back out of the API. */
export interface SecretMeta {
  readonly name: string;
  readonly description?: string;
  readonly version: number;
  /**
   * Roles whose holders (with `secrets:use`) may bind the secret to an agent or tool. Records
   * written before this field existed read as {@link DEFAULT_SECRET_ROLES}.
   */
  readonly allowedRoles?: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Who may bind a secret when its writer says nothing: tenant admins only. */
export const DEFAULT_SECRET_ROLES: readonly string[] = ['admin'];

/** One page of a list. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

/** Paging request: the cursor is opaque to callers and bound to one tenant and one list. */
export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

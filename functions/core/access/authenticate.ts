import { createHash } from 'node:crypto';
import { TokenExpiredError, UnauthenticatedError } from '../errors.ts';
import type { PlatformPrincipal, TenantPrincipal } from '../principal.ts';
import { hashApiKey, parseApiKey, sameHash } from '../tenancy/api-keys.ts';
import type { Tenant } from '../tenancy/model.ts';
import type { ApiKeyStore, RoleStore, TenantStore, UserStore } from '../tenancy/ports.ts';
import { resolvePermissions } from '../tenancy/roles.ts';
import { ssoAllows } from './sso.ts';

/** What the authenticator needs of a token verifier (aws-jwt-verify behind an adapter). */
export interface AccessTokenVerifier {
  verify(token: string): Promise<{
    readonly sub: string;
    readonly groups: readonly string[];
    readonly expiresAt: number;
    readonly username?: string;
  }>;
}

/** Options of the {@link Authenticator}. */
export interface AuthenticatorOptions {
  /** Only the reads the authorizer needs (and the key-use touch). */
  readonly store: Pick<UserStore, 'findUserBySub' | 'getUser'> &
    Pick<TenantStore, 'getTenant'> &
    Pick<RoleStore, 'getRoles'> &
    Pick<ApiKeyStore, 'getApiKey' | 'touchApiKey'>;
  readonly verifier: AccessTokenVerifier;
  readonly platformAdminGroup: string;
  /** How long a resolved credential is trusted without reading DynamoDB again: how long a revocation takes to bite. */
  readonly cacheTtlMs: number;
  readonly maxEntries?: number;
  readonly now?: () => number;
  /** How often at most a key's `lastUsedAt` is written (and its use audited). */
  readonly touchEveryMs?: number;
  /**
   * Audits refusals of a known tenant's credentials (with the reason) and an API key's first use in
   * each `touchEveryMs` window; off the request's critical path, failures ignored.
   */
  readonly auditAuth?: (tenantId: string, event: AuthEvent) => Promise<void>;
}

/** An authentication event worth auditing. */
export interface AuthEvent {
  readonly action: 'auth.denied' | 'apikey.used';
  readonly actor: { readonly id: string; readonly type: 'user' | 'apikey' };
  /** Why a credential was refused. */
  readonly reason?: string;
  readonly at: string;
  readonly userAgent: string;
}

/** A tenant's standing when its credential was checked: the API refuses a suspended one, the plan picks rate limits. */
export interface TenantStanding {
  readonly status: Tenant['status'];
  readonly plan: Tenant['plan'];
}

/** Whom a credential can stand for: a platform operator, a user or an API key (never a webhook or schedule). */
export type CredentialPrincipal =
  | PlatformPrincipal
  | (TenantPrincipal & { readonly principalType: 'user' | 'apikey' });

/** A verified credential: who it is and, for a tenant's principal, the tenant's standing. */
export interface Granted {
  readonly authenticated: true;
  readonly principal: CredentialPrincipal;
  readonly tenant?: TenantStanding;
}

/** A refused (or missing) credential, with a short reason code. */
export interface Denied {
  readonly authenticated: false;
  readonly reason: string;
}

/**
 * What authentication gives: a principal or a denial, as a value. The authorizer encodes it for API
 * Gateway and the API decodes it (functions/shared/auth-context.ts).
 */
export type AuthResult = Granted | Denied;

/** A resolved credential; `key` when it is an API key, whose use is recorded on every hit. */
interface Entry {
  readonly result: AuthResult;
  readonly until: number;
  readonly key: ApiKeyUse | undefined;
}

/** The API key a result stands for. */
interface ApiKeyUse {
  readonly tenantId: string;
  readonly keyId: string;
}

/** What resolving a credential gives: the result, how long it may be trusted, and the key used. */
interface Resolved {
  readonly result: AuthResult;
  readonly until?: number;
  readonly key?: ApiKeyUse;
}

const DENY = (reason: string): Denied => ({ authenticated: false, reason });

/** Refused credentials audited per tenant per window and container; the rest are only logged. */
const MAX_DENIALS_AUDITED = 20;
/** Tenants whose refusals a container counts at once (ids come from requests, so it is bounded). */
const MAX_TENANTS_TRACKED = 1_000;

/**
 * Resolves a bearer token or API key into a principal or a denial. Results (including refusals) are
 * cached in-process for `cacheTtlMs`, keyed by a hash of the credential, so a warm request makes no
 * DynamoDB call; a disabled user, revoked key or suspended tenant is refused within that TTL.
 */
export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly lastTouched = new Map<string, number>();
  /** Refusals audited per tenant in the current window (see {@link audit}). */
  private readonly denials = new Map<string, { since: number; count: number }>();
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Authenticates from request headers (lower-cased names). */
  async authenticate(headers: Readonly<Record<string, string | undefined>>): Promise<AuthResult> {
    const authorization = headers.authorization?.trim();
    const apiKey = headers['x-api-key']?.trim();
    if (authorization && apiKey) return DENY('ambiguous-credentials');
    const userAgent = headers['user-agent'] ?? '';
    if (apiKey) return this.cached(`k:${apiKey}`, () => this.fromApiKey(apiKey, userAgent), userAgent);
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match?.[1]) return DENY('malformed-authorization');
      const token = match[1];
      return this.cached(`b:${token}`, () => this.fromToken(token, userAgent), userAgent);
    }
    return DENY('missing-credentials');
  }

  /** Forgets every cached result (tests, and local mode after a change). */
  clear(): void {
    this.cache.clear();
  }

  private async cached(raw: string, resolve: () => Promise<Resolved>, userAgent = ''): Promise<AuthResult> {
    const id = createHash('sha256').update(raw).digest('base64url');
    const now = this.now();
    const hit = this.cache.get(id);
    if (hit && hit.until > now) {
      // Awaited, as on a miss: Lambda freezes the container once the handler returns.
      if (hit.key) await this.touch(hit.key, userAgent);
      return hit.result;
    }
    const { result, until, key } = await resolve();
    if (this.cache.size >= (this.options.maxEntries ?? 10_000)) {
      // Map keeps insertion order: drop the oldest entry.
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, {
      result,
      until: Math.min(now + this.options.cacheTtlMs, until ?? Number.POSITIVE_INFINITY),
      key,
    });
    return result;
  }

  private async fromToken(token: string, userAgent: string): Promise<Resolved> {
    let verified: Awaited<ReturnType<AccessTokenVerifier['verify']>>;
    try {
      verified = await this.options.verifier.verify(token);
    } catch (error) {
      if (error instanceof TokenExpiredError) return { result: DENY('expired-token') };
      if (error instanceof UnauthenticatedError) return { result: DENY('invalid-token') };
      throw error;
    }
    const until = verified.expiresAt * 1000;
    if (verified.groups.includes(this.options.platformAdminGroup)) {
      return {
        result: { authenticated: true, principal: { kind: 'platform', principalId: verified.sub } },
        until,
      };
    }
    const user = await this.options.store.findUserBySub(verified.sub);
    if (!user) return { result: DENY('unknown-user'), until };
    if (user.status !== 'active') {
      await this.audit(user.tenantId, { id: user.userId, type: 'user' }, 'user-disabled', userAgent);
      return { result: DENY('user-disabled'), until };
    }
    const [tenant, permissions] = await Promise.all([
      this.options.store.getTenant(user.tenantId),
      resolvePermissions(this.options.store, user.tenantId, user.roles),
    ]);
    if (!tenant) return { result: DENY('unknown-tenant'), until };
    if (!ssoAllows(tenant, user)) {
      await this.audit(user.tenantId, { id: user.userId, type: 'user' }, 'sso-required', userAgent);
      return { result: DENY('sso-required'), until };
    }
    return {
      result: {
        authenticated: true,
        principal: {
          kind: 'tenant',
          tenantId: user.tenantId,
          principalType: 'user',
          principalId: user.userId,
          email: user.email,
          roles: user.roles,
          permissions,
        },
        tenant: { status: tenant.status, plan: tenant.plan },
      },
      until,
    };
  }

  private async fromApiKey(key: string, userAgent: string): Promise<Resolved> {
    const parts = parseApiKey(key);
    if (!parts) return { result: DENY('invalid-api-key') };
    const [record, tenant] = await Promise.all([
      this.options.store.getApiKey(parts.tenantId, parts.keyId),
      this.options.store.getTenant(parts.tenantId),
    ]);
    if (!tenant) return { result: DENY('invalid-api-key') };
    const actor = { id: parts.keyId, type: 'apikey' as const };
    const refuse = async (reason: string, detail: string) => {
      await this.audit(parts.tenantId, actor, detail, userAgent);
      return { result: DENY(reason) };
    };
    if (!record) return refuse('invalid-api-key', 'unknown-api-key');
    if (record.status !== 'active') return refuse('invalid-api-key', 'revoked-api-key');
    const now = this.now();
    const expires = Date.parse(record.expiresAt);
    if (expires <= now) return refuse('expired-api-key', 'expired-api-key');
    const hash = hashApiKey(key);
    let until = expires;
    if (!sameHash(hash, record.secretHash)) {
      const graceEnds = record.previousValidUntil ? Date.parse(record.previousValidUntil) : 0;
      if (!record.previousSecretHash || !sameHash(hash, record.previousSecretHash) || graceEnds <= now) {
        return refuse('invalid-api-key', 'wrong-api-key-secret');
      }
      until = Math.min(until, graceEnds);
    }
    // A key acts for its creator: it works only while they are an active user of this tenant, and
    // never for more than they may do now (their roles may have shrunk since the key was made).
    const creator = await this.options.store.getUser(parts.tenantId, record.createdBy);
    if (creator?.status !== 'active') return refuse('key-creator-inactive', 'key-creator-inactive');
    if (!ssoAllows(tenant, creator)) return refuse('sso-required', 'sso-required');
    const current = await resolvePermissions(this.options.store, parts.tenantId, creator.roles);
    const effective = record.scopes.filter((scope) => current.has(scope));
    const result: AuthResult = {
      authenticated: true,
      principal: {
        kind: 'tenant',
        tenantId: parts.tenantId,
        principalType: 'apikey',
        principalId: record.keyId,
        onBehalfOf: record.createdBy,
        roles: [],
        permissions: new Set(effective),
      },
      tenant: { status: tenant.status, plan: tenant.plan },
    };
    const used = { tenantId: parts.tenantId, keyId: record.keyId };
    await this.touch(used, userAgent);
    return { result, until, key: used };
  }

  /**
   * Audits a refused credential of a known tenant. Awaited, like the key's use below: Lambda freezes
   * the container once the handler returns, so a write left running could land much later or never.
   * A failed write refuses nothing.
   */
  private async audit(
    tenantId: string,
    actor: AuthEvent['actor'],
    reason: string,
    userAgent: string,
  ): Promise<void> {
    // Anyone can send a credential naming a tenant, so refusals are audited at most
    // MAX_DENIALS_AUDITED times per tenant per window in this container: a flood of bad keys cannot
    // turn into a flood of audit writes (each refusal is still logged).
    const now = this.now();
    const windowMs = this.options.touchEveryMs ?? 5 * 60_000;
    const seen = this.denials.get(tenantId);
    const current = seen && now - seen.since < windowMs ? seen : { since: now, count: 0 };
    if (current.count >= MAX_DENIALS_AUDITED) return;
    if (!seen && this.denials.size >= MAX_TENANTS_TRACKED) this.denials.clear();
    this.denials.set(tenantId, { since: current.since, count: current.count + 1 });
    await this.options
      .auditAuth?.(tenantId, {
        action: 'auth.denied',
        actor,
        reason,
        at: new Date(this.now()).toISOString(),
        userAgent,
      })
      .catch(() => undefined);
  }

  /**
   * Records (and audits) a key's use at most every `touchEveryMs`. Awaited: Lambda freezes the
   * container once the handler returns, so a write left running could land minutes later or never.
   * A failed write does not refuse the key: it is a record of use, not a check.
   */
  private async touch(key: ApiKeyUse, userAgent: string): Promise<void> {
    const { tenantId, keyId: principalId } = key;
    const now = this.now();
    const last = this.lastTouched.get(principalId) ?? 0;
    if (now - last < (this.options.touchEveryMs ?? 5 * 60_000)) return;
    this.lastTouched.set(principalId, now);
    const at = new Date(now).toISOString();
    const [touched] = await Promise.allSettled([
      this.options.store.touchApiKey(tenantId, principalId, at),
      this.options.auditAuth?.(tenantId, {
        action: 'apikey.used',
        actor: { id: principalId, type: 'apikey' },
        at,
        userAgent,
      }),
    ]);
    // Not recorded: the next request tries again.
    if (touched.status === 'rejected') this.lastTouched.delete(principalId);
  }
}

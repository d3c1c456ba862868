import { PLAN_CONCURRENCY } from '#core/governance/bulkhead.ts';
import { DEFAULT_RATE_LIMITS, type RateLimitPlans } from '#core/governance/rate-limit.ts';
import type { Plan } from '#core/tenancy/model.ts';
import { stagePrefix } from './resource-names.ts';
import type { RuntimeEnvName } from './settings.ts';

/**
 * Runtime configuration, read once at cold start into a frozen object. A missing or malformed
 * variable fails the cold start with one error naming every problem, so a broken deployment is
 * found on its first request rather than on the one path that needed the missing value.
 *
 * Parsed by hand rather than with zod: every function (the authorizer included) loads this module,
 * and a validation library here would be most of the authorizer's bundle and cold start.
 *
 * The variables are read in groups ({@link SettingGroup}), one per concern. A function's composition
 * root (functions/adapters/wiring/) names the groups it reads; the others are neither read nor
 * bundled, and its factories' parameter types say which settings they need, so a root that forgets
 * one does not compile.
 */

/** The parsed, frozen runtime configuration. */
export interface RuntimeConfig {
  readonly STAGE: string;
  /** `aws` trusts only the stack's Cognito pool; `local` trusts the embedded platform's cognito-local. */
  readonly MERIDIAN_MODE: 'aws' | 'local';
  readonly TABLE_NAME: string;
  readonly AUDIT_BUCKET_NAME: string;
  readonly USER_POOL_ID: string;
  readonly USER_POOL_CLIENT_ID: string;
  readonly ARTIFACT_BUCKET_NAME?: string;
  /** Prefix of tenant secrets in Secrets Manager: `<prefix>/<tenantId>/<name>`. */
  readonly SECRETS_PREFIX: string;
  /** AWS only: the role assumed per tenant (session tag TenantId) to reach that tenant's data. */
  readonly TENANT_DATA_ROLE_ARN?: string;
  /** Prefix of state machine names (`meridian-<stage>`): IAM scopes Step Functions permissions by it. */
  readonly STATE_MACHINE_PREFIX?: string;
  /** Lambda ARNs compiled into every workflow's ASL (local mode names local stand-ins). */
  readonly STEP_RUNNER_ARN?: string;
  readonly APPROVAL_HANDLER_ARN?: string;
  /** AWS only: the role workflow state machines run as, and their log group. */
  readonly WORKFLOW_ROLE_ARN?: string;
  readonly WORKFLOW_LOG_GROUP_ARN?: string;
  /**
   * AWS only: schedules. Prefix of the per-tenant schedule groups (`meridian-<stage>`), the function a
   * firing invokes, and the role EventBridge Scheduler assumes to invoke it.
   */
  readonly SCHEDULE_GROUP_PREFIX?: string;
  readonly SCHEDULE_FIRE_ARN?: string;
  readonly SCHEDULER_ROLE_ARN?: string;
  /** The lifecycle jobs' Lambda (offboarding, exports) and, on AWS, their state machines. */
  readonly LIFECYCLE_HANDLER_ARN?: string;
  readonly OFFBOARDING_STATE_MACHINE_ARN?: string;
  readonly EXPORT_STATE_MACHINE_ARN?: string;
  /** Provider circuit breakers: consecutive retryable failures that open one, and its cool-down. */
  readonly CIRCUIT_FAILURE_THRESHOLD: number;
  readonly CIRCUIT_COOLDOWN_MS: number;
  /** How long the authorizer trusts a resolved credential: the time a revocation takes to bite. */
  readonly AUTH_CACHE_TTL_SECONDS: number;
  /** Rate limits: requests per window per tenant and per API key, by plan (`RATE_LIMIT_*`). */
  readonly RATE_LIMITS: RateLimitPlans;
  /** Running executions allowed per tenant, by plan (`MAX_RUNNING_EXECUTIONS_*`). */
  readonly MAX_RUNNING_EXECUTIONS: Readonly<Record<Plan, number>>;
  /** The asymmetric KMS key (ECC_NIST_P256) that signs audit digests on AWS. */
  readonly AUDIT_SIGNING_KEY_ARN?: string;
  /** Seconds between a tenant's audit digests at most (the stream consumer's batching window). */
  readonly AUDIT_DIGEST_INTERVAL_SECONDS: number;
  /** Days an audit record stays in the table once its digest is archived (then TTL removes it). */
  readonly AUDIT_TABLE_RETENTION_DAYS: number;
  /** AWS only: the notification delivery queue and its dead-letter queue (SQS URLs). */
  readonly NOTIFICATION_QUEUE_URL?: string;
  readonly NOTIFICATION_DLQ_URL?: string;
  /** AWS only: the SES-verified sender of notification emails. */
  readonly NOTIFICATION_FROM_ADDRESS?: string;
  /** Pause before a notification's second delivery attempt (ms); each later one doubles it. */
  readonly NOTIFICATION_RETRY_BASE_MS: number;
  /** Local mode only: the state folder (encrypted secrets live under it). */
  readonly MERIDIAN_STATE_DIR?: string;
  /** Local mode only: issuer and JWKS of cognito-local (its discovery document is wrong). */
  readonly LOCAL_JWT_ISSUER?: string;
  readonly LOCAL_JWKS_URI?: string;
  /**
   * DNS servers that email-domain verification asks (`host[:port]`, comma-separated) instead of the
   * system's: tests point it at their own. The stack does not set it.
   */
  readonly DNS_SERVERS?: readonly string[];
}

/** Thrown when the environment does not hold a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads variables and collects every problem instead of stopping at the first. */
export class SettingsReader {
  readonly problems: string[] = [];
  /** Local mode: the embedded platform, which has stand-ins for what the stack sets on AWS. */
  readonly local: boolean;
  constructor(private readonly env: NodeJS.ProcessEnv) {
    this.local = env.MERIDIAN_MODE === 'local';
  }

  private raw(name: RuntimeEnvName): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: RuntimeEnvName, minLength = 1): string {
    const value = this.raw(name);
    if (value === undefined) this.problems.push(`${name}: required`);
    else if (value.length < minLength) this.problems.push(`${name}: at least ${minLength} characters`);
    return value ?? '';
  }

  optional(
    name: RuntimeEnvName,
    check?: { minLength?: number; prefix?: string; url?: boolean },
  ): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    if (check?.minLength !== undefined && value.length < check.minLength) {
      this.problems.push(`${name}: at least ${check.minLength} characters`);
    }
    if (check?.prefix !== undefined && !value.startsWith(check.prefix)) {
      this.problems.push(`${name}: must start with "${check.prefix}"`);
    }
    if (check?.url && !URL.canParse(value)) this.problems.push(`${name}: not a URL`);
    return value;
  }

  /** Optional on AWS; required in local mode, where nothing else provides it. */
  localOnly(name: RuntimeEnvName, check?: { url?: boolean }): string | undefined {
    const value = this.optional(name, check);
    if (this.local && value === undefined) this.problems.push(`${name}: required in local mode`);
    return value;
  }

  integer(name: RuntimeEnvName, min: number, max: number, fallback: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${name}: an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  oneOf<T extends string>(name: RuntimeEnvName, values: readonly T[]): T {
    const value = this.raw(name);
    if (value === undefined || !(values as readonly string[]).includes(value)) {
      this.problems.push(`${name}: one of ${values.join(', ')}`);
      return values[0] as T;
    }
    return value as T;
  }
}

/**
 * The settings `K` of {@link RuntimeConfig}: what a factory that reads only those takes. Every key is
 * present, optional ones possibly undefined, so an object read without the group that holds one
 * (which would lack the key) does not type-check, and a root that forgets a group does not compile.
 */
export type Settings<K extends keyof RuntimeConfig> = { readonly [P in K]-?: RuntimeConfig[P] };

/** Some settings of {@link RuntimeConfig}, read together. */
export type SettingGroup<K extends keyof RuntimeConfig> = (r: SettingsReader) => Settings<K>;

/** Any {@link SettingGroup}. */
type Group = (r: SettingsReader) => Partial<RuntimeConfig>;

type Intersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;

/** What reading `G` gives: the settings of each of its groups. */
export type SettingsOf<G extends readonly Group[]> = Intersection<ReturnType<G[number]>>;

const ARN = { prefix: 'arn:' };

/** Every function: its stage and mode, the table, and the role that fences it to one tenant. */
export const core: SettingGroup<
  'STAGE' | 'MERIDIAN_MODE' | 'TABLE_NAME' | 'TENANT_DATA_ROLE_ARN' | 'MERIDIAN_STATE_DIR'
> = (r) => ({
  STAGE: r.string('STAGE'),
  MERIDIAN_MODE: r.oneOf('MERIDIAN_MODE', ['aws', 'local'] as const),
  TABLE_NAME: r.string('TABLE_NAME', 3),
  TENANT_DATA_ROLE_ARN: r.optional('TENANT_DATA_ROLE_ARN', ARN),
  MERIDIAN_STATE_DIR: r.localOnly('MERIDIAN_STATE_DIR'),
});

/** Where tenant secrets live. */
export const secrets: SettingGroup<'SECRETS_PREFIX'> = (r) => ({
  SECRETS_PREFIX: r.optional('SECRETS_PREFIX') ?? 'meridian/local/tenants',
});

/** The artifacts bucket: large step outputs, exports. */
export const artifacts: SettingGroup<'ARTIFACT_BUCKET_NAME'> = (r) => ({
  ARTIFACT_BUCKET_NAME: r.optional('ARTIFACT_BUCKET_NAME', { minLength: 3 }),
});

/** The audit archive bucket (a resource setting: required where read). */
export const auditBucket: SettingGroup<'AUDIT_BUCKET_NAME'> = (r) => ({
  AUDIT_BUCKET_NAME: r.string('AUDIT_BUCKET_NAME', 3),
});

/** The Cognito user pool and its app client (resource settings: required where read). */
export const userPool: SettingGroup<'USER_POOL_ID' | 'USER_POOL_CLIENT_ID'> = (r) => ({
  USER_POOL_ID: r.string('USER_POOL_ID'),
  USER_POOL_CLIENT_ID: r.string('USER_POOL_CLIENT_ID'),
});

/** Local mode only: cognito-local's issuer and JWKS (its discovery document is wrong). */
export const localTokens: SettingGroup<'LOCAL_JWT_ISSUER' | 'LOCAL_JWKS_URI'> = (r) => ({
  LOCAL_JWT_ISSUER: r.localOnly('LOCAL_JWT_ISSUER', { url: true }),
  LOCAL_JWKS_URI: r.localOnly('LOCAL_JWKS_URI', { url: true }),
});

/** Where email-domain verification looks up TXT records (the system's resolver unless set). */
export const dnsServers: SettingGroup<'DNS_SERVERS'> = (r) => {
  const value = r.optional('DNS_SERVERS');
  const servers = value?.split(',').map((server) => server.trim());
  if (servers?.some((server) => !/^[\w.:[\]-]+$/.test(server)))
    r.problems.push('DNS_SERVERS: host[:port], comma-separated');
  return { DNS_SERVERS: servers };
};

/*
 * The local platform's stand-ins for what the stack sets on AWS. Only local mode gets defaults; on
 * AWS a missing value fails where it is first used, naming the variable.
 */
const localLambda = (name: string) => `arn:aws:lambda:local:000000000000:function:meridian-${name}`;

/** The prefix of every workflow state machine's name, `meridian-<stage>`, which IAM fences by. */
export const machines: SettingGroup<'STATE_MACHINE_PREFIX'> = (r) => ({
  STATE_MACHINE_PREFIX: r.optional('STATE_MACHINE_PREFIX') ?? (r.local ? stagePrefix('local') : undefined),
});

/** What publishing a workflow compiles in and creates its machine with: the functions its ASL calls, its role and logs. */
export const workflows: SettingGroup<
  'STEP_RUNNER_ARN' | 'APPROVAL_HANDLER_ARN' | 'WORKFLOW_ROLE_ARN' | 'WORKFLOW_LOG_GROUP_ARN'
> = (r) => ({
  STEP_RUNNER_ARN: r.optional('STEP_RUNNER_ARN', ARN) ?? (r.local ? localLambda('step-runner') : undefined),
  APPROVAL_HANDLER_ARN:
    r.optional('APPROVAL_HANDLER_ARN', ARN) ?? (r.local ? localLambda('approval-handler') : undefined),
  WORKFLOW_ROLE_ARN: r.optional('WORKFLOW_ROLE_ARN', ARN),
  WORKFLOW_LOG_GROUP_ARN: r.optional('WORKFLOW_LOG_GROUP_ARN', ARN),
});

/** The lifecycle jobs: their state machines on AWS, their Lambda on the local platform. */
export const lifecycleJobs: SettingGroup<
  'LIFECYCLE_HANDLER_ARN' | 'OFFBOARDING_STATE_MACHINE_ARN' | 'EXPORT_STATE_MACHINE_ARN'
> = (r) => ({
  LIFECYCLE_HANDLER_ARN:
    r.optional('LIFECYCLE_HANDLER_ARN', ARN) ?? (r.local ? localLambda('lifecycle') : undefined),
  OFFBOARDING_STATE_MACHINE_ARN: r.optional('OFFBOARDING_STATE_MACHINE_ARN', ARN),
  EXPORT_STATE_MACHINE_ARN: r.optional('EXPORT_STATE_MACHINE_ARN', ARN),
});

/** EventBridge Scheduler: the per-tenant groups' prefix, the function a firing invokes, its role. */
export const schedules: SettingGroup<'SCHEDULE_GROUP_PREFIX' | 'SCHEDULE_FIRE_ARN' | 'SCHEDULER_ROLE_ARN'> = (
  r,
) => ({
  SCHEDULE_GROUP_PREFIX: r.optional('SCHEDULE_GROUP_PREFIX'),
  SCHEDULE_FIRE_ARN: r.optional('SCHEDULE_FIRE_ARN', ARN),
  SCHEDULER_ROLE_ARN: r.optional('SCHEDULER_ROLE_ARN', ARN),
});

/** Provider circuit breakers. */
export const circuits: SettingGroup<'CIRCUIT_FAILURE_THRESHOLD' | 'CIRCUIT_COOLDOWN_MS'> = (r) => ({
  CIRCUIT_FAILURE_THRESHOLD: r.integer('CIRCUIT_FAILURE_THRESHOLD', 1, 100, 5),
  CIRCUIT_COOLDOWN_MS: r.integer('CIRCUIT_COOLDOWN_MS', 100, 3_600_000, 30_000),
});

/** The authorizer's credential cache. */
export const authCache: SettingGroup<'AUTH_CACHE_TTL_SECONDS'> = (r) => ({
  AUTH_CACHE_TTL_SECONDS: r.integer('AUTH_CACHE_TTL_SECONDS', 0, 300, 30),
});

/** Reads `RATE_LIMIT_*`; the window is counted in ten slots, so it must be a multiple of 10 seconds. */
function rateLimits(r: SettingsReader): RateLimitPlans {
  const d = DEFAULT_RATE_LIMITS;
  const windowSeconds = r.integer('RATE_LIMIT_WINDOW_SECONDS', 10, 3600, d.windowSeconds);
  if (windowSeconds % 10 !== 0) r.problems.push('RATE_LIMIT_WINDOW_SECONDS: a multiple of 10');
  const limit = (name: RuntimeEnvName, fallback: number) => r.integer(name, 1, 10_000_000, fallback);
  return Object.freeze({
    windowSeconds,
    tenant: Object.freeze({
      free: limit('RATE_LIMIT_TENANT_FREE', d.tenant.free),
      pro: limit('RATE_LIMIT_TENANT_PRO', d.tenant.pro),
      enterprise: limit('RATE_LIMIT_TENANT_ENTERPRISE', d.tenant.enterprise),
    }),
    apiKey: Object.freeze({
      free: limit('RATE_LIMIT_API_KEY_FREE', d.apiKey.free),
      pro: limit('RATE_LIMIT_API_KEY_PRO', d.apiKey.pro),
      enterprise: limit('RATE_LIMIT_API_KEY_ENTERPRISE', d.apiKey.enterprise),
    }),
  });
}

/** Request rates per tenant and per API key, by plan. */
export const rates: SettingGroup<'RATE_LIMITS'> = (r) => ({ RATE_LIMITS: rateLimits(r) });

/** Running executions per tenant, by plan. */
export const runCaps: SettingGroup<'MAX_RUNNING_EXECUTIONS'> = (r) => ({
  MAX_RUNNING_EXECUTIONS: Object.freeze({
    free: r.integer('MAX_RUNNING_EXECUTIONS_FREE', 1, 100_000, PLAN_CONCURRENCY.free),
    pro: r.integer('MAX_RUNNING_EXECUTIONS_PRO', 1, 100_000, PLAN_CONCURRENCY.pro),
    enterprise: r.integer('MAX_RUNNING_EXECUTIONS_ENTERPRISE', 1, 100_000, PLAN_CONCURRENCY.enterprise),
  }),
});

/** Audit digests: the signing key, how often, and how long records stay in the table. */
export const auditDigests: SettingGroup<'AUDIT_SIGNING_KEY_ARN' | 'AUDIT_TABLE_RETENTION_DAYS'> = (r) => ({
  AUDIT_SIGNING_KEY_ARN: r.optional('AUDIT_SIGNING_KEY_ARN', ARN),
  AUDIT_TABLE_RETENTION_DAYS: r.integer('AUDIT_TABLE_RETENTION_DAYS', 1, 3650, 30),
});

/**
 * How often a tenant's audit digest is written at most. No function reads it: on AWS it is the
 * stream consumer's batching window (lib/constructs/audit-stream.ts), on the local platform its
 * timer (bin/local/platform.ts); it is checked with the rest of the local platform's settings.
 */
export const digestInterval: SettingGroup<'AUDIT_DIGEST_INTERVAL_SECONDS'> = (r) => ({
  AUDIT_DIGEST_INTERVAL_SECONDS: r.integer('AUDIT_DIGEST_INTERVAL_SECONDS', 1, 300, r.local ? 10 : 60),
});

/** Notification delivery: its queues, the email sender, and the retry pause. */
export const notifications: SettingGroup<
  | 'NOTIFICATION_QUEUE_URL'
  | 'NOTIFICATION_DLQ_URL'
  | 'NOTIFICATION_FROM_ADDRESS'
  | 'NOTIFICATION_RETRY_BASE_MS'
> = (r) => ({
  NOTIFICATION_QUEUE_URL: r.optional('NOTIFICATION_QUEUE_URL', { url: true }),
  NOTIFICATION_DLQ_URL: r.optional('NOTIFICATION_DLQ_URL', { url: true }),
  NOTIFICATION_FROM_ADDRESS: r.optional('NOTIFICATION_FROM_ADDRESS', { minLength: 3 }),
  NOTIFICATION_RETRY_BASE_MS: r.integer('NOTIFICATION_RETRY_BASE_MS', 10, 3_600_000, 30_000),
});

/**
 * Every group: the whole {@link RuntimeConfig}. For the local platform, which runs every function in
 * one process, and for tools and tests; a function's bundle holds only the groups its root names.
 */
export const ALL_SETTINGS = [
  core,
  auditBucket,
  userPool,
  artifacts,
  secrets,
  machines,
  workflows,
  lifecycleJobs,
  schedules,
  circuits,
  authCache,
  rates,
  runCaps,
  auditDigests,
  digestInterval,
  notifications,
  localTokens,
  dnsServers,
] as const;

function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/** Each group of `groups` read from `env`, in order, or one {@link ConfigError} naming every problem. */
function readGroups(env: NodeJS.ProcessEnv, groups: readonly Group[]): Partial<RuntimeConfig>[] {
  const r = new SettingsReader(env);
  const parsed = groups.map((group) => defined(group(r)));
  if (r.problems.length > 0)
    throw new ConfigError(`Invalid Meridian configuration: ${r.problems.join('; ')}`);
  return parsed;
}

/** Reads `groups` from `env` into one frozen object, or throws one {@link ConfigError} naming every problem. */
export function parseConfig<const G extends readonly Group[] = typeof ALL_SETTINGS>(
  env: NodeJS.ProcessEnv,
  groups: G = ALL_SETTINGS as unknown as G,
): SettingsOf<G> {
  return Object.freeze(Object.assign({}, ...readGroups(env, groups))) as SettingsOf<G>;
}

const parsedGroups = new Map<Group, Partial<RuntimeConfig>>();

/**
 * The process's settings of `groups`, each group parsed from `process.env` on first use and never
 * again. A composition root calls it first, at cold start, with every group its function reads, so
 * a misconfigured function fails its first request with every problem named. The local platform
 * runs every function in one process, where each root reads its own groups of the same variables.
 */
export function config<const G extends readonly Group[]>(groups: G): SettingsOf<G> {
  const fresh = groups.filter((group) => !parsedGroups.has(group));
  if (fresh.length > 0) {
    const parsed = readGroups(process.env, fresh);
    for (const [i, group] of fresh.entries()) parsedGroups.set(group, Object.freeze(parsed[i] ?? {}));
  }
  // One group, as a handler reads it per request (`config([auditDigests])`): its frozen object as parsed.
  const only = groups.length === 1 ? parsedGroups.get(groups[0] as Group) : undefined;
  if (only) return only as SettingsOf<G>;
  return Object.freeze(Object.assign({}, ...groups.map((group) => parsedGroups.get(group)))) as SettingsOf<G>;
}

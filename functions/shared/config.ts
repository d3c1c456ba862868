import { PLAN_CONCURRENCY } from '#core/governance/bulkhead.ts';
import { DEFAULT_RATE_LIMITS, type RateLimitPlans } from '#core/governance/rate-limit.ts';
import type { Plan } from '#core/tenancy/model.ts';
import { stagePrefix } from './resource-names.ts';
import { ALL_RESOURCE_SETTINGS, type ResourceSetting, type RuntimeEnvName } from './settings.ts';

/**
 * Runtime configuration, read once at cold start into a frozen object. A missing or malformed
 * variable fails the cold start with one error naming every problem, so a broken deployment is
 * found on its first request rather than on the one path that needed the missing value.
 *
 * Parsed by hand rather than with zod: every function (the authorizer included) loads this module,
 * and a validation library here would be most of the authorizer's bundle and cold start.
 */

/** The parsed, frozen runtime configuration. */
export interface RuntimeConfig {
  readonly STAGE: string;
  /** `aws` trusts only the stack's Cognito pool; `local` trusts the embedded platform's cognito-local. */
  readonly MERIDIAN_MODE: 'aws' | 'local';
  readonly TABLE_NAME: string;
  /** The resource settings ({@link ResourceSetting}) are `''` in a function that does not read them. */
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
}

/** Thrown when the environment does not hold a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * The local platform's stand-ins for what the stack sets on AWS. Only local mode gets defaults; on
 * AWS a missing value fails where workflows are first used, naming the variable.
 */
const LOCAL_WORKFLOW_DEFAULTS = Object.freeze({
  STATE_MACHINE_PREFIX: stagePrefix('local'),
  STEP_RUNNER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-step-runner',
  APPROVAL_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-approval-handler',
  LIFECYCLE_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-lifecycle',
});

/** Reads variables and collects every problem instead of stopping at the first. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: NodeJS.ProcessEnv) {}

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

function defined<T extends object>(record: T): T {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as T;
}

/** Reads `RATE_LIMIT_*`; the window is counted in ten slots, so it must be a multiple of 10 seconds. */
function rateLimits(r: Reader): RateLimitPlans {
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

/**
 * Parses `env` into a frozen config or throws one {@link ConfigError} naming every problem. `needs`
 * are the resource settings the calling function reads: required, while the others are read when
 * set and are `''` otherwise.
 */
export function parseConfig(
  env: NodeJS.ProcessEnv,
  needs: readonly ResourceSetting[] = ALL_RESOURCE_SETTINGS,
): RuntimeConfig {
  const r = new Reader(env);
  const arn = { prefix: 'arn:' };
  const resource = (name: ResourceSetting, minLength = 1): string =>
    needs.includes(name) ? r.string(name, minLength) : (r.optional(name, { minLength }) ?? '');
  const parsed: RuntimeConfig = defined({
    STAGE: r.string('STAGE'),
    MERIDIAN_MODE: r.oneOf('MERIDIAN_MODE', ['aws', 'local'] as const),
    TABLE_NAME: r.string('TABLE_NAME', 3),
    AUDIT_BUCKET_NAME: resource('AUDIT_BUCKET_NAME', 3),
    USER_POOL_ID: resource('USER_POOL_ID'),
    USER_POOL_CLIENT_ID: resource('USER_POOL_CLIENT_ID'),
    ARTIFACT_BUCKET_NAME: r.optional('ARTIFACT_BUCKET_NAME', { minLength: 3 }),
    SECRETS_PREFIX: r.optional('SECRETS_PREFIX') ?? 'meridian/local/tenants',
    TENANT_DATA_ROLE_ARN: r.optional('TENANT_DATA_ROLE_ARN', arn),
    STATE_MACHINE_PREFIX: r.optional('STATE_MACHINE_PREFIX'),
    STEP_RUNNER_ARN: r.optional('STEP_RUNNER_ARN', arn),
    APPROVAL_HANDLER_ARN: r.optional('APPROVAL_HANDLER_ARN', arn),
    WORKFLOW_ROLE_ARN: r.optional('WORKFLOW_ROLE_ARN', arn),
    WORKFLOW_LOG_GROUP_ARN: r.optional('WORKFLOW_LOG_GROUP_ARN', arn),
    SCHEDULE_GROUP_PREFIX: r.optional('SCHEDULE_GROUP_PREFIX'),
    SCHEDULE_FIRE_ARN: r.optional('SCHEDULE_FIRE_ARN', arn),
    SCHEDULER_ROLE_ARN: r.optional('SCHEDULER_ROLE_ARN', arn),
    LIFECYCLE_HANDLER_ARN: r.optional('LIFECYCLE_HANDLER_ARN', arn),
    OFFBOARDING_STATE_MACHINE_ARN: r.optional('OFFBOARDING_STATE_MACHINE_ARN', arn),
    EXPORT_STATE_MACHINE_ARN: r.optional('EXPORT_STATE_MACHINE_ARN', arn),
    CIRCUIT_FAILURE_THRESHOLD: r.integer('CIRCUIT_FAILURE_THRESHOLD', 1, 100, 5),
    CIRCUIT_COOLDOWN_MS: r.integer('CIRCUIT_COOLDOWN_MS', 100, 3_600_000, 30_000),
    AUTH_CACHE_TTL_SECONDS: r.integer('AUTH_CACHE_TTL_SECONDS', 0, 300, 30),
    RATE_LIMITS: rateLimits(r),
    MAX_RUNNING_EXECUTIONS: Object.freeze({
      free: r.integer('MAX_RUNNING_EXECUTIONS_FREE', 1, 100_000, PLAN_CONCURRENCY.free),
      pro: r.integer('MAX_RUNNING_EXECUTIONS_PRO', 1, 100_000, PLAN_CONCURRENCY.pro),
      enterprise: r.integer('MAX_RUNNING_EXECUTIONS_ENTERPRISE', 1, 100_000, PLAN_CONCURRENCY.enterprise),
    }),
    AUDIT_SIGNING_KEY_ARN: r.optional('AUDIT_SIGNING_KEY_ARN', arn),
    AUDIT_DIGEST_INTERVAL_SECONDS: r.integer(
      'AUDIT_DIGEST_INTERVAL_SECONDS',
      1,
      300,
      env.MERIDIAN_MODE === 'local' ? 10 : 60,
    ),
    AUDIT_TABLE_RETENTION_DAYS: r.integer('AUDIT_TABLE_RETENTION_DAYS', 1, 3650, 30),
    NOTIFICATION_QUEUE_URL: r.optional('NOTIFICATION_QUEUE_URL', { url: true }),
    NOTIFICATION_DLQ_URL: r.optional('NOTIFICATION_DLQ_URL', { url: true }),
    NOTIFICATION_FROM_ADDRESS: r.optional('NOTIFICATION_FROM_ADDRESS', { minLength: 3 }),
    NOTIFICATION_RETRY_BASE_MS: r.integer('NOTIFICATION_RETRY_BASE_MS', 10, 3_600_000, 30_000),
    MERIDIAN_STATE_DIR: r.optional('MERIDIAN_STATE_DIR'),
    LOCAL_JWT_ISSUER: r.optional('LOCAL_JWT_ISSUER', { url: true }),
    LOCAL_JWKS_URI: r.optional('LOCAL_JWKS_URI', { url: true }),
  });
  if (parsed.MERIDIAN_MODE === 'local') {
    for (const name of ['LOCAL_JWT_ISSUER', 'LOCAL_JWKS_URI', 'MERIDIAN_STATE_DIR'] as const) {
      if (!parsed[name]) r.problems.push(`${name}: required in local mode`);
    }
  }
  if (r.problems.length > 0)
    throw new ConfigError(`Invalid Meridian configuration: ${r.problems.join('; ')}`);
  return Object.freeze(parsed.MERIDIAN_MODE === 'local' ? { ...LOCAL_WORKFLOW_DEFAULTS, ...parsed } : parsed);
}

let cached: RuntimeConfig | undefined;

/**
 * The process-wide configuration, parsed on first use (cold start) and never again. A function's
 * composition root calls it first with the resource settings it reads (functions/shared/settings.ts);
 * later calls without `needs` get the same object. The local platform runs every function in one
 * process with every variable set, so a later root's `needs` are checked against the parsed values.
 */
export function config(needs?: readonly ResourceSetting[]): RuntimeConfig {
  cached ??= parseConfig(process.env, needs ?? ALL_RESOURCE_SETTINGS);
  const missing = (needs ?? []).filter((name) => !cached?.[name]);
  if (missing.length > 0)
    throw new ConfigError(
      `Invalid Meridian configuration: ${missing.map((n) => `${n}: required`).join('; ')}`,
    );
  return cached;
}

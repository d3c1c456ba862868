import { z } from 'zod';

/**
 * Runtime configuration, read once at cold start into a frozen object. A missing or malformed
 * variable fails the cold start with one error naming every problem, so a broken deployment is
 * found on its first request rather than on the one path that needed the missing value.
 */
const envSchema = z.object({
  STAGE: z.string().min(1),
  /** `aws` trusts only the stack's Cognito pool; `local` trusts the embedded platform's cognito-local. */
  MERIDIAN_MODE: z.enum(['aws', 'local']),
  TABLE_NAME: z.string().min(3),
  AUDIT_BUCKET_NAME: z.string().min(3),
  USER_POOL_ID: z.string().min(1),
  USER_POOL_CLIENT_ID: z.string().min(1),
  ARTIFACT_BUCKET_NAME: z.string().min(3).optional(),
  /** Prefix of tenant secrets in Secrets Manager: `<prefix>/<tenantId>/<name>`. */
  SECRETS_PREFIX: z.string().min(1).default('meridian/local/tenants'),
  /** AWS only: the role assumed per tenant (session tag TenantId) to reach that tenant's data. */
  TENANT_DATA_ROLE_ARN: z.string().startsWith('arn:').optional(),
  /** Prefix of state machine names (`meridian-<stage>`): IAM scopes Step Functions permissions by it. */
  STATE_MACHINE_PREFIX: z.string().min(1).optional(),
  /** Lambda ARNs compiled into every workflow's ASL (local mode names local stand-ins). */
  STEP_RUNNER_ARN: z.string().startsWith('arn:').optional(),
  APPROVAL_HANDLER_ARN: z.string().startsWith('arn:').optional(),
  /** AWS only: the role workflow state machines run as, and their log group. */
  WORKFLOW_ROLE_ARN: z.string().startsWith('arn:').optional(),
  WORKFLOW_LOG_GROUP_ARN: z.string().startsWith('arn:').optional(),
  /** Provider circuit breakers: consecutive retryable failures that open one, and its cool-down. */
  CIRCUIT_FAILURE_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  CIRCUIT_COOLDOWN_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  /** How long the authorizer trusts a resolved credential: the time a revocation takes to bite. */
  AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** Local mode only: the state folder (encrypted secrets live under it). */
  MERIDIAN_STATE_DIR: z.string().min(1).optional(),
  /** Local mode only: issuer and JWKS of cognito-local (its discovery document is wrong). */
  LOCAL_JWT_ISSUER: z.url().optional(),
  LOCAL_JWKS_URI: z.url().optional(),
});

/** The parsed, frozen runtime configuration. */
export type RuntimeConfig = Readonly<z.infer<typeof envSchema>>;

/** Thrown when the environment does not hold a valid configuration; names every bad variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses `env` into a frozen config or throws one {@link ConfigError} naming every problem. */
export function parseConfig(env: NodeJS.ProcessEnv): RuntimeConfig {
  const result = envSchema.safeParse(env);
  const problems: string[] = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (result.success && result.data.MERIDIAN_MODE === 'local') {
    if (!result.data.LOCAL_JWT_ISSUER) problems.push('LOCAL_JWT_ISSUER: required in local mode');
    if (!result.data.LOCAL_JWKS_URI) problems.push('LOCAL_JWKS_URI: required in local mode');
    if (!result.data.MERIDIAN_STATE_DIR) problems.push('MERIDIAN_STATE_DIR: required in local mode');
  }
  if (!result.success || problems.length > 0) {
    throw new ConfigError(`Invalid Meridian configuration: ${problems.join('; ')}`);
  }
  return Object.freeze(
    result.data.MERIDIAN_MODE === 'local'
      ? { ...LOCAL_WORKFLOW_DEFAULTS, ...result.data }
      : { ...result.data },
  );
}

/**
 * The local platform's stand-ins for what the stack sets on AWS. Only local mode gets defaults; on
 * AWS a missing value fails where workflows are first used, naming the variable.
 */
const LOCAL_WORKFLOW_DEFAULTS = Object.freeze({
  STATE_MACHINE_PREFIX: 'meridian-local',
  STEP_RUNNER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-step-runner',
  APPROVAL_HANDLER_ARN: 'arn:aws:lambda:local:000000000000:function:meridian-approval-handler',
});

let cached: RuntimeConfig | undefined;

/** The process-wide configuration, parsed on first use (cold start) and never again. */
export function config(): RuntimeConfig {
  cached ??= parseConfig(process.env);
  return cached;
}

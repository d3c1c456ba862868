/**
 * The one list of Meridian's environment variable names and which function needs which. The CDK
 * `bind*` helpers (lib/constructs/function.ts), the local platform (bin/local/env.ts) and the runtime
 * parser (functions/shared/config.ts) all take their names from here, so a renamed or misspelt
 * variable is a compile error instead of a function that fails at its first request.
 */

/** Every variable the runtime configuration reads. */
export const RUNTIME_ENV_NAMES = [
  'STAGE',
  'MERIDIAN_MODE',
  'TABLE_NAME',
  'AUDIT_BUCKET_NAME',
  'USER_POOL_ID',
  'USER_POOL_CLIENT_ID',
  'ARTIFACT_BUCKET_NAME',
  'SECRETS_PREFIX',
  'TENANT_DATA_ROLE_ARN',
  'STATE_MACHINE_PREFIX',
  'STEP_RUNNER_ARN',
  'APPROVAL_HANDLER_ARN',
  'WORKFLOW_ROLE_ARN',
  'WORKFLOW_LOG_GROUP_ARN',
  'SCHEDULE_GROUP_PREFIX',
  'SCHEDULE_FIRE_ARN',
  'SCHEDULER_ROLE_ARN',
  'LIFECYCLE_HANDLER_ARN',
  'OFFBOARDING_STATE_MACHINE_ARN',
  'EXPORT_STATE_MACHINE_ARN',
  'CIRCUIT_FAILURE_THRESHOLD',
  'CIRCUIT_COOLDOWN_MS',
  'AUTH_CACHE_TTL_SECONDS',
  'RATE_LIMIT_WINDOW_SECONDS',
  'RATE_LIMIT_TENANT_FREE',
  'RATE_LIMIT_TENANT_PRO',
  'RATE_LIMIT_TENANT_ENTERPRISE',
  'RATE_LIMIT_API_KEY_FREE',
  'RATE_LIMIT_API_KEY_PRO',
  'RATE_LIMIT_API_KEY_ENTERPRISE',
  'MAX_RUNNING_EXECUTIONS_FREE',
  'MAX_RUNNING_EXECUTIONS_PRO',
  'MAX_RUNNING_EXECUTIONS_ENTERPRISE',
  'AUDIT_SIGNING_KEY_ARN',
  'AUDIT_DIGEST_INTERVAL_SECONDS',
  'AUDIT_TABLE_RETENTION_DAYS',
  'NOTIFICATION_QUEUE_URL',
  'NOTIFICATION_DLQ_URL',
  'NOTIFICATION_FROM_ADDRESS',
  'NOTIFICATION_RETRY_BASE_MS',
  'MERIDIAN_STATE_DIR',
  'LOCAL_JWT_ISSUER',
  'LOCAL_JWKS_URI',
  'DNS_SERVERS',
] as const;

/** A variable of the runtime configuration. */
export type RuntimeEnvName = (typeof RUNTIME_ENV_NAMES)[number];

/** Variables the Lambda runtime and Powertools read, which the stack and the local platform also set. */
export const PLATFORM_ENV_NAMES = [
  'NODE_OPTIONS',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
] as const;

/** A variable the stack may set on a function. */
export type FunctionEnvName = RuntimeEnvName | (typeof PLATFORM_ENV_NAMES)[number];

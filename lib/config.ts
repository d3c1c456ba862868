import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { RuntimeEnvName } from '#shared/settings.ts';

/**
 * Per-stage deployment configuration: everything that differs between `dev` and `prod` lives here,
 * typed and frozen, so the constructs take plain values and never branch on the stage name.
 * Deployment-specific values (domains, URLs, e-mail) can be overridden with CDK context
 * (`-c key=value`) and are validated the same way as the defaults.
 */

/** The stages Meridian knows how to deploy. */
export const STAGE_NAMES = ['dev', 'prod'] as const;

/** One of {@link STAGE_NAMES}. */
export type StageName = (typeof STAGE_NAMES)[number];

/** Cognito MFA enforcement, spelled like `aws-cognito`'s `Mfa` enum keys. */
export type MfaMode = 'OFF' | 'OPTIONAL' | 'REQUIRED';

/** Memory and timeout of one Lambda function; explicit so cost and limits are reviewed, not defaulted. */
export interface FunctionSizing {
  /** Memory in MB (128 to 10,240); CPU scales with it. */
  readonly memoryMb: number;
  /** Maximum run time of one invocation. */
  readonly timeout: Duration;
  /**
   * Reserved concurrency: both the function's guaranteed share of the account's concurrency and its
   * ceiling. Set on the step runner as a bulkhead, so a burst of workflow steps cannot take the
   * concurrency the authorizer and the API need. @default - none: the unreserved pool
   */
  readonly reservedConcurrency?: number;
}

/**
 * Optional Amazon SES sender for Cognito's e-mail (invitations, verification, password reset).
 * Cognito's built-in sender allows only 50 messages a day per account, so a deployment that
 * invites more users than that a day needs SES. The identity must be verified in SES first.
 */
export interface CognitoSesEmail {
  /** The From address, e.g. `no-reply@example.com`; its address or domain is a verified SES identity. */
  readonly fromEmail: string;
  /** The SES region where the identity is verified (required: the stack's region is unknown at synth). */
  readonly sesRegion: string;
  /** The verified SES domain the address belongs to, when the identity is a domain. */
  readonly sesVerifiedDomain?: string;
}

/** API Gateway stage throttling. */
export interface ThrottleConfig {
  /** Steady-state requests per second across the stage. */
  readonly rateLimit: number;
  /** Burst bucket size, in requests. */
  readonly burstLimit: number;
}

/** Requests per window per tenant and per API key, by plan (enforced in the API handler). */
export interface RateLimitConfig {
  /** Length of the window, in seconds; a multiple of 10 (it is counted in ten slots). */
  readonly windowSeconds: number;
  readonly tenant: Readonly<Record<'free' | 'pro' | 'enterprise', number>>;
  readonly apiKey: Readonly<Record<'free' | 'pro' | 'enterprise', number>>;
}

/** The validated, frozen configuration of one stage. */
export interface StageConfig {
  /** The stage name; part of stack ids, the secrets prefix and the `STAGE` variable. */
  readonly stage: StageName;
  /**
   * Removal policy of resources CloudFormation can delete cleanly (table, user pool, their keys, log
   * groups): RETAIN in prod, DESTROY in dev. Buckets are always retained (see the storage constructs).
   */
  readonly removalPolicy: RemovalPolicy;
  /** DynamoDB and Cognito deletion protection, and stack termination protection. */
  readonly deletionProtection: boolean;
  /** Retention of every Lambda and API access log group. */
  readonly logRetention: RetentionDays;
  /** Object Lock COMPLIANCE retention of each audit archive object, in days (cannot be shortened later). */
  readonly auditObjectLockDays: number;
  /** Days after which audit archive objects move to S3 Glacier Flexible Retrieval. */
  readonly auditGlacierTransitionDays: number;
  /** Days a non-current artifact version is kept before it expires. */
  readonly artifactsNoncurrentVersionDays: number;
  /** Days S3 server access logs are kept. */
  readonly accessLogsExpirationDays: number;
  /** Cognito MFA: dev OPTIONAL (fast local sign-in), prod REQUIRED. */
  readonly mfa: MfaMode;
  /**
   * Cognito threat protection (Plus feature plan, billed per monthly active user): compromised
   * credential detection and adaptive authentication, enforced.
   */
  readonly threatProtection: boolean;
  /**
   * Prefix of the Cognito hosted login domain. The stack appends `-<account id>` because prefixes are
   * unique across every AWS account in a region. Lowercase letters, digits and hyphens.
   */
  readonly hostedLoginDomainPrefix: string;
  /** OAuth callback URLs of the app client (https, or http on localhost in dev only; no prod default). */
  readonly callbackUrls: readonly string[];
  /** OAuth sign-out URLs of the app client (https, or http on localhost in dev only; no prod default). */
  readonly logoutUrls: readonly string[];
  /**
   * Browser origins allowed by the API's CORS preflight, besides the console's own CloudFront origin,
   * which the stack always adds (lib/constructs/console.ts).
   */
  readonly corsAllowedOrigins: readonly string[];
  /** Stage-wide API throttling. */
  readonly apiThrottle: ThrottleConfig;
  /** Per-tenant and per-API-key rate limits by plan, below the stage-wide throttle. */
  readonly rateLimits: RateLimitConfig;
  /** p99 API latency above which the latency alarm fires, in milliseconds. */
  readonly apiLatencyP99AlarmMs: number;
  /** E-mail address subscribed to the alarm topic. @default - no subscription */
  readonly alarmEmail?: string;
  /** Sizing of the API handler function. */
  readonly apiFunction: FunctionSizing;
  /** Sizing of the request authorizer function. */
  readonly authorizerFunction: FunctionSizing;
  /**
   * Sizing of the step runner (agent and tool steps). An agent step runs a bounded tool-call loop with
   * a model call per turn, so it gets minutes and the memory (hence CPU) to parse large outputs.
   */
  readonly stepRunnerFunction: FunctionSizing;
  /** Sizing of the approval handler (records a pending approval: a few table writes). */
  readonly approvalHandlerFunction: FunctionSizing;
  /** Sizing of the execution status handler (records a final status: a few table writes). */
  readonly statusHandlerFunction: FunctionSizing;
  /** Sizing of the notification delivery function (one email or HTTPS POST per queue message). */
  readonly notificationDeliveryFunction: FunctionSizing;
  /**
   * The SES-verified sender of notification emails. @default - the Cognito SES sender
   * ({@link cognitoEmail}) if set, else none: email notifications then fail (and are dead-lettered)
   * on AWS until one is configured.
   */
  readonly notificationsFromEmail?: string;
  /**
   * Cognito e-mail through SES instead of Cognito's built-in sender (low daily cap).
   * @default - Cognito's built-in sender
   */
  readonly cognitoEmail?: CognitoSesEmail;
  /** Percentage of finished executions that failed or timed out above which the alarm fires. */
  readonly executionFailureRateAlarmPercent: number;
  /** Percentage of step runner invocations that failed above which the alarm fires. */
  readonly stepFailureRateAlarmPercent: number;
}

/** Values an operator may override per deployment with `-c key=value`. */
export interface StageOverrides {
  /** Overrides {@link StageConfig.hostedLoginDomainPrefix}. */
  readonly hostedLoginDomainPrefix?: unknown;
  /** Replaces {@link StageConfig.callbackUrls}; a comma-separated string or a string array. */
  readonly callbackUrls?: unknown;
  /** Replaces {@link StageConfig.logoutUrls}; a comma-separated string or a string array. */
  readonly logoutUrls?: unknown;
  /** Replaces {@link StageConfig.corsAllowedOrigins}; a comma-separated string or a string array. */
  readonly corsAllowedOrigins?: unknown;
  /** Sets {@link StageConfig.alarmEmail}. */
  readonly alarmEmail?: unknown;
  /** Replaces the step runner's {@link FunctionSizing.reservedConcurrency} (its bulkhead). */
  readonly stepRunnerReservedConcurrency?: unknown;
  /** Sets {@link StageConfig.notificationsFromEmail}. */
  readonly notificationsFromEmail?: unknown;
  /** Sets {@link CognitoSesEmail.fromEmail}, turning on Cognito e-mail through SES. */
  readonly sesFromEmail?: unknown;
  /** Sets {@link CognitoSesEmail.sesRegion}. */
  readonly sesRegion?: unknown;
  /** Sets {@link CognitoSesEmail.sesVerifiedDomain}. */
  readonly sesVerifiedDomain?: unknown;
}

/** Thrown at synth when the stage or an override is invalid; the message names each value and the fix. */
export class StageConfigError extends Error {
  override readonly name = 'StageConfigError';
}

/** The CLI's loopback redirect (authorization code + PKCE from a terminal); Cognito allows http here. */
const CLI_CALLBACK = 'http://localhost:8765/callback';
const CLI_LOGOUT = 'http://localhost:8765/logout';

/**
 * An agent step is one Lambda invocation: up to `maxToolCalls` model turns (each bounded by the
 * provider timeout, 120 s for OpenAI-compatible endpoints) plus the HTTP tool calls between them.
 * Five minutes covers a typical loop; a step's own `timeoutSeconds` cannot extend it (the Lambda
 * timeout bites first), and a longer limit would only let a stuck step bill for longer.
 * 1024 MB: CPU scales with memory, and the runner parses and serializes outputs of up to 256 KB.
 */
const STEP_RUNNER_SIZING = { memoryMb: 1024, timeout: Duration.minutes(5) } as const;

const DEFAULTS: Readonly<Record<StageName, Omit<StageConfig, 'stage'>>> = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_MONTH,
    // One day: dev archives are test data, and COMPLIANCE mode makes every object undeletable
    // (even by the root user) until its retention ends.
    auditObjectLockDays: 1,
    auditGlacierTransitionDays: 30,
    artifactsNoncurrentVersionDays: 7,
    accessLogsExpirationDays: 30,
    mfa: 'OPTIONAL',
    threatProtection: false,
    hostedLoginDomainPrefix: 'meridian-dev',
    callbackUrls: ['http://localhost:3000/auth/callback', CLI_CALLBACK],
    logoutUrls: ['http://localhost:3000/', CLI_LOGOUT],
    corsAllowedOrigins: ['http://localhost:3000'],
    apiThrottle: { rateLimit: 25, burstLimit: 50 },
    // Per minute: one tenant gets at most a fraction of the stage's 25 requests a second.
    rateLimits: {
      windowSeconds: 60,
      tenant: { free: 300, pro: 600, enterprise: 1_200 },
      apiKey: { free: 120, pro: 300, enterprise: 600 },
    },
    apiLatencyP99AlarmMs: 5000,
    apiFunction: { memoryMb: 1024, timeout: Duration.seconds(25) },
    authorizerFunction: { memoryMb: 512, timeout: Duration.seconds(5) },
    // A new account may have only 10 concurrent executions in all; 5 leaves the rest to the API.
    stepRunnerFunction: { ...STEP_RUNNER_SIZING, reservedConcurrency: 5 },
    approvalHandlerFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    statusHandlerFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    notificationDeliveryFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    // dev runs test workflows that fail on purpose; only a broken platform should page.
    executionFailureRateAlarmPercent: 50,
    stepFailureRateAlarmPercent: 50,
  },
  prod: {
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    logRetention: RetentionDays.ONE_YEAR,
    auditObjectLockDays: 365,
    auditGlacierTransitionDays: 90,
    artifactsNoncurrentVersionDays: 30,
    accessLogsExpirationDays: 365,
    mfa: 'REQUIRED',
    threatProtection: true,
    hostedLoginDomainPrefix: 'meridian-prod',
    // No default: prod must not ship loopback sign-in URLs (anyone running a local listener could take
    // the authorization code), so the operator names the https URLs with -c callbackUrls=... logoutUrls=...
    callbackUrls: [],
    logoutUrls: [],
    corsAllowedOrigins: [],
    apiThrottle: { rateLimit: 200, burstLimit: 400 },
    rateLimits: {
      windowSeconds: 60,
      tenant: { free: 300, pro: 3_000, enterprise: 6_000 },
      apiKey: { free: 120, pro: 1_200, enterprise: 3_000 },
    },
    apiLatencyP99AlarmMs: 2000,
    apiFunction: { memoryMb: 1024, timeout: Duration.seconds(25) },
    authorizerFunction: { memoryMb: 512, timeout: Duration.seconds(5) },
    // Of the default 1,000 per account: steps queue in Step Functions (retried on throttling) rather
    // than take the concurrency sign-in and the API need.
    stepRunnerFunction: { ...STEP_RUNNER_SIZING, reservedConcurrency: 200 },
    approvalHandlerFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    statusHandlerFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    notificationDeliveryFunction: { memoryMb: 256, timeout: Duration.seconds(30) },
    executionFailureRateAlarmPercent: 10,
    // Steps are retried by their workflow, so a step failure rate well above the execution one is normal.
    stepFailureRateAlarmPercent: 25,
  },
};

function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && (STAGE_NAMES as readonly string[]).includes(value);
}

/** Reads a list override given as a string array (cdk.json) or a comma-separated string (`-c`). */
function listOverride(key: string, value: unknown, problems: string[]): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  if (Array.isArray(value) && value.every((item): item is string => typeof item === 'string')) {
    return value;
  }
  problems.push(
    `${key}: received ${JSON.stringify(value)}; pass a comma-separated string, e.g. -c ${key}=https://a.example,https://b.example`,
  );
  return undefined;
}

function stringOverride(key: string, value: unknown, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value.trim();
  problems.push(`${key}: received ${JSON.stringify(value)}; pass a string, e.g. -c ${key}=...`);
  return undefined;
}

function numberOverride(key: string, value: unknown, problems: string[]): number | undefined {
  if (value === undefined) return undefined;
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof parsed === 'number' && Number.isFinite(parsed)) return parsed;
  problems.push(`${key}: received ${JSON.stringify(value)}; pass a number, e.g. -c ${key}=50`);
  return undefined;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Cognito accepts https redirect URLs, and http only for localhost; prod takes https only. */
function checkRedirectUrl(stage: StageName, key: string, url: string, problems: string[]): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    problems.push(`${key}: "${url}" is not an absolute URL; use e.g. https://app.example.com/auth/callback`);
    return;
  }
  const localHttp = parsed.protocol === 'http:' && LOCAL_HOSTS.has(parsed.hostname);
  if (parsed.protocol !== 'https:' && !localHttp) {
    problems.push(`${key}: "${url}" must use https (Cognito allows http only for localhost)`);
  }
  if (parsed.hash !== '') problems.push(`${key}: "${url}" must not contain a #fragment`);
  if (stage === 'prod' && localHttp) {
    problems.push(
      `${key}: "${url}" is a localhost URL, which prod must not ship; set https URLs, e.g. -c ${key}=https://app.example.com/...`,
    );
  }
}

/** The fix named when a redirect list is empty; prod has no default so the operator must choose. */
function missingRedirect(stage: StageName, key: string): string {
  const example =
    key === 'callbackUrls' ? 'https://app.example.com/auth/callback' : 'https://app.example.com/';
  return stage === 'prod'
    ? `${key}: prod has no default; set the https URLs of your sign-in front end, e.g. npx cdk deploy -c stage=prod -c ${key}=${example}`
    : `${key}: at least one URL is required`;
}

function checkOrigin(stage: StageName, origin: string, problems: string[]): void {
  if (origin === '*') {
    if (stage === 'prod') {
      problems.push('corsAllowedOrigins: "*" is not allowed in prod; list the exact https origins');
    }
    return;
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    problems.push(`corsAllowedOrigins: "${origin}" is not an origin; use e.g. https://app.example.com`);
    return;
  }
  if (parsed.origin !== origin) {
    problems.push(
      `corsAllowedOrigins: "${origin}" must be a bare origin (scheme://host[:port], no path or trailing slash); did you mean "${parsed.origin}"?`,
    );
  }
}

// Prefix + "-" + 12-digit account id must fit Cognito's 63 characters.
const DOMAIN_PREFIX = /^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$/;
const RESERVED_IN_PREFIX = /aws|amazon|cognito/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function checkSizing(
  key: string,
  sizing: FunctionSizing,
  maxTimeoutSeconds: number,
  problems: string[],
): void {
  if (!Number.isInteger(sizing.memoryMb) || sizing.memoryMb < 128 || sizing.memoryMb > 10_240) {
    problems.push(`${key}.memoryMb: received ${sizing.memoryMb}; use an integer from 128 to 10240`);
  }
  const seconds = sizing.timeout.toSeconds();
  if (seconds < 1 || seconds > maxTimeoutSeconds) {
    problems.push(`${key}.timeout: received ${seconds}s; use 1 to ${maxTimeoutSeconds} seconds`);
  }
  const reserved = sizing.reservedConcurrency;
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
    problems.push(`${key}.reservedConcurrency: received ${reserved}; use a whole number >= 1`);
  }
}

function validate(config: StageConfig, problems: string[]): void {
  const prefix = config.hostedLoginDomainPrefix;
  if (!DOMAIN_PREFIX.test(prefix) || RESERVED_IN_PREFIX.test(prefix)) {
    problems.push(
      `hostedLoginDomainPrefix: received "${prefix}"; use 1-50 lowercase letters, digits or inner hyphens, without "aws", "amazon" or "cognito"`,
    );
  }
  if (config.callbackUrls.length === 0) problems.push(missingRedirect(config.stage, 'callbackUrls'));
  if (config.logoutUrls.length === 0) problems.push(missingRedirect(config.stage, 'logoutUrls'));
  for (const url of config.callbackUrls) checkRedirectUrl(config.stage, 'callbackUrls', url, problems);
  for (const url of config.logoutUrls) checkRedirectUrl(config.stage, 'logoutUrls', url, problems);
  for (const origin of config.corsAllowedOrigins) checkOrigin(config.stage, origin, problems);
  if (config.cognitoEmail !== undefined && !EMAIL.test(config.cognitoEmail.fromEmail)) {
    problems.push(
      `sesFromEmail: received "${config.cognitoEmail.fromEmail}"; use a verified SES address like no-reply@example.com`,
    );
  }
  if (config.alarmEmail !== undefined && !EMAIL.test(config.alarmEmail)) {
    problems.push(`alarmEmail: received "${config.alarmEmail}"; use an address like ops@example.com`);
  }
  const { rateLimit, burstLimit } = config.apiThrottle;
  if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit < 1) {
    problems.push(
      `apiThrottle: received rate ${rateLimit}, burst ${burstLimit}; use a positive rate and a burst of at least 1`,
    );
  }
  if (!Number.isInteger(config.auditObjectLockDays) || config.auditObjectLockDays < 1) {
    problems.push(
      `auditObjectLockDays: received ${config.auditObjectLockDays}; use a whole number of days >= 1`,
    );
  }
  if (!Number.isInteger(config.auditGlacierTransitionDays) || config.auditGlacierTransitionDays < 1) {
    problems.push(
      `auditGlacierTransitionDays: received ${config.auditGlacierTransitionDays}; use a whole number of days >= 1`,
    );
  }
  // HTTP APIs give up on an integration after 30 s; a longer Lambda timeout would only burn money.
  checkSizing('apiFunction', config.apiFunction, 29, problems);
  // API Gateway waits at most 10 s for a Lambda authorizer.
  checkSizing('authorizerFunction', config.authorizerFunction, 10, problems);
  // Invoked by Step Functions and EventBridge: bounded only by Lambda's own 15-minute limit.
  checkSizing('stepRunnerFunction', config.stepRunnerFunction, 900, problems);
  checkSizing('approvalHandlerFunction', config.approvalHandlerFunction, 900, problems);
  checkSizing('statusHandlerFunction', config.statusHandlerFunction, 900, problems);
  checkSizing('notificationDeliveryFunction', config.notificationDeliveryFunction, 900, problems);
  if (config.notificationsFromEmail !== undefined && !EMAIL.test(config.notificationsFromEmail)) {
    problems.push(
      `notificationsFromEmail: received "${config.notificationsFromEmail}"; use a verified SES address like notifications@example.com`,
    );
  }
  for (const key of ['executionFailureRateAlarmPercent', 'stepFailureRateAlarmPercent'] as const) {
    const percent = config[key];
    if (!(percent > 0 && percent <= 100)) {
      problems.push(`${key}: received ${percent}; use a percentage above 0 and at most 100`);
    }
  }
}

/**
 * Builds the validated, frozen configuration of `stage`, applying operator overrides.
 * Throws one {@link StageConfigError} naming every bad value and how to fix it.
 */
export function loadStageConfig(stage: unknown, overrides: StageOverrides = {}): StageConfig {
  if (!isStageName(stage)) {
    throw new StageConfigError(
      `Unknown stage ${JSON.stringify(stage)}: use one of ${STAGE_NAMES.join(', ')}, e.g. npx cdk synth -c stage=dev`,
    );
  }
  const problems: string[] = [];
  const base = DEFAULTS[stage];
  const alarmEmail = stringOverride('alarmEmail', overrides.alarmEmail, problems);
  const reserved = numberOverride(
    'stepRunnerReservedConcurrency',
    overrides.stepRunnerReservedConcurrency,
    problems,
  );
  const sesFromEmail = stringOverride('sesFromEmail', overrides.sesFromEmail, problems);
  const notificationsFromEmail =
    stringOverride('notificationsFromEmail', overrides.notificationsFromEmail, problems) ?? sesFromEmail;
  const sesRegion = stringOverride('sesRegion', overrides.sesRegion, problems);
  const sesVerifiedDomain = stringOverride('sesVerifiedDomain', overrides.sesVerifiedDomain, problems);
  if (!sesFromEmail && (sesRegion || sesVerifiedDomain)) {
    problems.push(
      'sesRegion, sesVerifiedDomain: set sesFromEmail too, e.g. -c sesFromEmail=no-reply@example.com',
    );
  }
  if (sesFromEmail && !sesRegion) {
    problems.push('sesRegion: required with sesFromEmail, e.g. -c sesRegion=eu-west-1');
  }
  const config: StageConfig = {
    ...base,
    stage,
    hostedLoginDomainPrefix:
      stringOverride('hostedLoginDomainPrefix', overrides.hostedLoginDomainPrefix, problems) ??
      base.hostedLoginDomainPrefix,
    callbackUrls: listOverride('callbackUrls', overrides.callbackUrls, problems) ?? base.callbackUrls,
    logoutUrls: listOverride('logoutUrls', overrides.logoutUrls, problems) ?? base.logoutUrls,
    corsAllowedOrigins:
      listOverride('corsAllowedOrigins', overrides.corsAllowedOrigins, problems) ?? base.corsAllowedOrigins,
    ...(reserved === undefined
      ? {}
      : { stepRunnerFunction: { ...base.stepRunnerFunction, reservedConcurrency: reserved } }),
    ...(alarmEmail ? { alarmEmail } : {}),
    ...(notificationsFromEmail ? { notificationsFromEmail } : {}),
    ...(sesFromEmail && sesRegion
      ? {
          cognitoEmail: {
            fromEmail: sesFromEmail,
            sesRegion,
            ...(sesVerifiedDomain ? { sesVerifiedDomain } : {}),
          },
        }
      : {}),
  };
  validate(config, problems);
  if (problems.length > 0) {
    throw new StageConfigError(`Invalid configuration for stage "${stage}": ${problems.join('; ')}`);
  }
  return deepFreeze(config);
}

/** Minimal view of a construct node: what {@link stageConfigFromContext} reads. */
export interface ContextReader {
  /** Returns the context value of `key`, or undefined. */
  tryGetContext(key: string): unknown;
}

/**
 * Reads the stage (`-c stage=dev|prod`, default `dev`) and the overrides from CDK context.
 * An empty `-c stage=` is an error rather than a silent fall-back to dev.
 */
export function stageConfigFromContext(node: ContextReader): StageConfig {
  const stage = node.tryGetContext('stage') ?? 'dev';
  return loadStageConfig(stage, {
    hostedLoginDomainPrefix: node.tryGetContext('hostedLoginDomainPrefix'),
    callbackUrls: node.tryGetContext('callbackUrls'),
    logoutUrls: node.tryGetContext('logoutUrls'),
    corsAllowedOrigins: node.tryGetContext('corsAllowedOrigins'),
    alarmEmail: node.tryGetContext('alarmEmail'),
    stepRunnerReservedConcurrency: node.tryGetContext('stepRunnerReservedConcurrency'),
    sesFromEmail: node.tryGetContext('sesFromEmail'),
    notificationsFromEmail: node.tryGetContext('notificationsFromEmail'),
    sesRegion: node.tryGetContext('sesRegion'),
    sesVerifiedDomain: node.tryGetContext('sesVerifiedDomain'),
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    // Duration and RemovalPolicy values are CDK objects/enums; freezing a Duration is harmless.
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The API function's variables for {@link RateLimitConfig} (read by functions/shared/config.ts). */
export function rateLimitEnvironment(limits: RateLimitConfig): Partial<Record<RuntimeEnvName, string>> {
  const env: Partial<Record<RuntimeEnvName, string>> = {
    RATE_LIMIT_WINDOW_SECONDS: String(limits.windowSeconds),
  };
  for (const plan of ['free', 'pro', 'enterprise'] as const) {
    const suffix = plan.toUpperCase() as Uppercase<typeof plan>;
    env[`RATE_LIMIT_TENANT_${suffix}`] = String(limits.tenant[plan]);
    env[`RATE_LIMIT_API_KEY_${suffix}`] = String(limits.apiKey[plan]);
  }
  return env;
}

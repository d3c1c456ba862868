import type { RuntimeEnvName } from '#shared/settings.ts';

/**
 * The environment the handlers read at import time (functions/shared/config.ts), pointing every AWS
 * SDK client of the emulated services at the local emulators.
 *
 * Precedence: the platform OWNS the variables that describe what it started (mode, names, ids,
 * endpoints, region, credentials, checksum mode) and always overwrites them, so an `AWS_ENDPOINT_URL`
 * for LocalStack or a real `AWS_PROFILE` in the shell can never send local requests to another
 * backend or to real AWS with real credentials. The per-service variables
 * (`AWS_ENDPOINT_URL_DYNAMODB`, ...) win over a global `AWS_ENDPOINT_URL` inside the SDK, so a user's
 * global one still applies to services nothing emulates here. Tuning knobs (log level, metrics switch,
 * SECRETS_PREFIX, ...) are only defaults: a value already set by the user is kept.
 */

/** Resource names of the local stage. */
export const LOCAL_NAMES = Object.freeze({
  stage: 'local',
  tableName: 'meridian-local',
  auditBucket: 'meridian-local-audit',
  artifactBucket: 'meridian-local-artifacts',
  secretsPrefix: 'meridian/local/tenants',
});

/** What the platform started, for {@link platformEnv}. */
export interface PlatformEndpoints {
  readonly stateDir: string;
  readonly dynamodbEndpoint: string;
  readonly s3Endpoint: string;
  readonly cognitoEndpoint: string;
  readonly userPoolId: string;
  readonly clientId: string;
  readonly issuer: string;
  readonly jwksUri: string;
  readonly quiet: boolean;
}

/** The variables split by precedence: `owned` always set, `defaults` only when unset. */
export interface PlatformEnv {
  readonly owned: Readonly<Record<string, string>>;
  readonly defaults: Readonly<Record<string, string>>;
}

/** Builds the handlers' environment for the started emulators. */
export function platformEnv(endpoints: PlatformEndpoints): PlatformEnv {
  // The runtime configuration's names come from functions/shared/settings.ts, like the stack's.
  const runtime = {
    STAGE: LOCAL_NAMES.stage,
    MERIDIAN_MODE: 'local',
    MERIDIAN_STATE_DIR: endpoints.stateDir,
    TABLE_NAME: LOCAL_NAMES.tableName,
    AUDIT_BUCKET_NAME: LOCAL_NAMES.auditBucket,
    ARTIFACT_BUCKET_NAME: LOCAL_NAMES.artifactBucket,
    USER_POOL_ID: endpoints.userPoolId,
    USER_POOL_CLIENT_ID: endpoints.clientId,
    LOCAL_JWT_ISSUER: endpoints.issuer,
    LOCAL_JWKS_URI: endpoints.jwksUri,
  } satisfies Partial<Record<RuntimeEnvName, string>>;
  const runtimeDefaults = {
    SECRETS_PREFIX: LOCAL_NAMES.secretsPrefix,
  } satisfies Partial<Record<RuntimeEnvName, string>>;
  return {
    owned: {
      ...runtime,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      // s3rver accepts only these; DynamoDB Local (-sharedDb) and cognito-local accept anything.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodbEndpoint,
      AWS_ENDPOINT_URL_S3: endpoints.s3Endpoint,
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoints.cognitoEndpoint,
      // s3rver silently corrupts streamed uploads with the SDK's default checksums. (Path-style
      // addressing needs no variable: the SDK uses it by itself for an IP-address endpoint.)
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    },
    defaults: {
      ...runtimeDefaults,
      POWERTOOLS_SERVICE_NAME: 'meridian',
      // No EMF metric lines on the terminal. POWERTOOLS_DEV is left to the user: it would also
      // pretty-print every log entry over several lines, between the one-line access log.
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: endpoints.quiet ? 'WARN' : 'INFO',
      POWERTOOLS_TRACE_ENABLED: 'false',
      AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  };
}

/** Variables that would mix real credentials into the dummy ones above; removed while running. */
const CONFLICTING = [
  'AWS_SESSION_TOKEN',
  'AWS_PROFILE',
  'AWS_CONTAINER_CREDENTIALS_FULL_URI',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
];

/**
 * Applies `env` to `target` (process.env) and returns a function that restores the previous values.
 * Returns the effective values the platform set.
 */
export function applyEnv(
  env: PlatformEnv,
  target: NodeJS.ProcessEnv = process.env,
): { applied: Record<string, string>; restore: () => void } {
  const previous = new Map<string, string | undefined>();
  const remember = (name: string): void => {
    if (!previous.has(name)) previous.set(name, target[name]);
  };
  const applied: Record<string, string> = {};
  for (const name of CONFLICTING) {
    remember(name);
    delete target[name];
  }
  for (const [name, value] of Object.entries(env.owned)) {
    remember(name);
    target[name] = value;
    applied[name] = value;
  }
  for (const [name, value] of Object.entries(env.defaults)) {
    const current = target[name];
    if (current !== undefined && current !== '') {
      applied[name] = current;
      continue;
    }
    remember(name);
    target[name] = value;
    applied[name] = value;
  }
  return {
    applied,
    restore: () => {
      for (const [name, value] of previous) {
        if (value === undefined) delete target[name];
        else target[name] = value;
      }
    },
  };
}

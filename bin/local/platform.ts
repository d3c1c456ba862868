import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { startAuditStream } from './audit-stream.ts';
import { bootstrap, DEMO_IDP } from './bootstrap.ts';
import { asFunction, recordCalls } from './call-log.ts';
import { ensureIdentity, issuerOf, startCognito } from './cognito.ts';
import { ensureTable, startDynamo } from './dynamodb.ts';
import { applyEnv, LOCAL_NAMES, platformEnv } from './env.ts';
import { LocalPlatformError } from './errors.ts';
import { jobRuntimes, loadHandlers, startWorkflowRuntime } from './handlers.ts';
import { checkJava } from './java.ts';
import { type LocalRoutesOptions, localRoute } from './local-routes.ts';
import { startLocalIdp } from './oidc.ts';
import { claimPorts, PORT_DEFAULTS, portFromEnv } from './ports.ts';
import { startWatchdog } from './process.ts';
import { ensureBuckets, startS3 } from './s3.ts';
import { startLocalScheduler } from './scheduler.ts';
import { startApiServer } from './server.ts';
import { CONSOLE_CLIENT_ID, LocalSso } from './sso.ts';
import { type DemoInfo, generatePassword, loadState, saveState, statePaths } from './state.ts';

/** Options of {@link startLocalPlatform}; every port defaults to its env variable, then its default. */
export interface LocalPlatformOptions {
  /** Where data lives between starts; default `MERIDIAN_STATE_DIR`, else `.local`. */
  readonly stateDir?: string;
  /** API port (`PORT`, 3000); 0 picks a free one, as do the other ports. */
  readonly port?: number;
  /** DynamoDB Local (`MERIDIAN_DYNAMODB_PORT`, 8000). */
  readonly dynamoPort?: number;
  /** s3rver (`MERIDIAN_S3_PORT`, 4569). */
  readonly s3Port?: number;
  /** cognito-local (`MERIDIAN_COGNITO_PORT`, 9229). */
  readonly cognitoPort?: number;
  /** The local OpenID provider of the demo tenant (`MERIDIAN_IDP_PORT`, 9230). */
  readonly idpPort?: number;
  /** No access log or progress lines; handler log level WARN. */
  readonly quiet?: boolean;
  /** Progress output (default: console.log). */
  readonly log?: (line: string) => void;
  /** Aborting while starting stops what already started and rejects. */
  readonly signal?: AbortSignal;
}

/** A running local platform. */
export interface LocalPlatform {
  readonly apiUrl: string;
  /** The console, served by the same server (`<apiUrl>/console/`). */
  readonly consoleUrl: string;
  /** Contents of `<stateDir>/demo.json`. */
  readonly demo: DemoInfo;
  /** The environment the handlers run with. */
  readonly env: Readonly<Record<string, string>>;
  readonly stateDir: string;
  readonly endpoints: { readonly dynamodb: string; readonly s3: string; readonly cognito: string };
  /** Milliseconds from the call until `/health` was served, and until everything was ready. */
  readonly timings: { readonly healthMs: number; readonly readyMs: number };
  /** Stops the server and every emulator; safe to call more than once. */
  stop(): Promise<void>;
}

/** Like Promise.all for a tuple, but waits for every promise to settle before rejecting. */
async function allStarted<T extends readonly unknown[]>(
  promises: { [K in keyof T]: Promise<T[K]> },
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failure = results.find((result) => result.status === 'rejected');
  if (failure) throw failure.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

// Handlers read their configuration once per process (at import); a second platform in the same
// process with a different environment would silently talk to the first one's emulators.
let loadedEnvFingerprint: string | undefined;

function fingerprint(env: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(env).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * Starts DynamoDB Local, s3rver and cognito-local (in parallel), creates the table, buckets and
 * user pool if absent, applies the handlers' environment, imports the handlers, serves the API and
 * runs the first-start bootstrap. Everything started is stopped again if a later step fails.
 */
export async function startLocalPlatform(options: LocalPlatformOptions = {}): Promise<LocalPlatform> {
  const startedAt = performance.now();
  const quiet = options.quiet ?? false;
  const log = quiet ? () => {} : (options.log ?? ((line: string) => console.log(line)));
  const stateDir = resolve(options.stateDir ?? process.env.MERIDIAN_STATE_DIR ?? '.local');
  const paths = statePaths(stateDir);
  const wanted = {
    api: options.port ?? portFromEnv(PORT_DEFAULTS.api.envVar, PORT_DEFAULTS.api.port),
    dynamodb: options.dynamoPort ?? portFromEnv(PORT_DEFAULTS.dynamodb.envVar, PORT_DEFAULTS.dynamodb.port),
    s3: options.s3Port ?? portFromEnv(PORT_DEFAULTS.s3.envVar, PORT_DEFAULTS.s3.port),
    cognito: options.cognitoPort ?? portFromEnv(PORT_DEFAULTS.cognito.envVar, PORT_DEFAULTS.cognito.port),
    idp: options.idpPort ?? portFromEnv(PORT_DEFAULTS.idp.envVar, PORT_DEFAULTS.idp.port),
  };

  const cleanups: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const errors: unknown[] = [];
    // Reverse order: the server first (no new requests), the watchdog last.
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error: unknown) => errors.push(error));
    }
    if (errors.length > 0 && !quiet) console.error('Errors while stopping the local platform:', ...errors);
  };
  const checkAborted = (): void => {
    if (options.signal?.aborted) throw new LocalPlatformError('Start of the local platform was interrupted.');
  };

  try {
    await mkdir(stateDir, { recursive: true });
    const [, ports] = await Promise.all([
      checkJava(),
      claimPorts([
        { ...PORT_DEFAULTS.api, port: wanted.api },
        { ...PORT_DEFAULTS.dynamodb, port: wanted.dynamodb },
        { ...PORT_DEFAULTS.s3, port: wanted.s3 },
        { ...PORT_DEFAULTS.cognito, port: wanted.cognito },
        { ...PORT_DEFAULTS.idp, port: wanted.idp },
      ]),
    ]);
    checkAborted();
    // DynamoDB Local and cognito-local need their port before they start (the issuer names it);
    // s3rver and the API bind port 0 themselves, which cannot race.
    const dynamoPort = ports[1] ?? wanted.dynamodb;
    const cognitoPort = ports[3] ?? wanted.cognito;

    const watchdog = startWatchdog();
    cleanups.push(() => watchdog.stop());
    const state = await loadState(stateDir);

    // allSettled, not all: when one fails, the others must have finished starting (and registered
    // their cleanup) before stop() runs, or they would be left running.
    const [dynamo, s3, identity] = await allStarted([
      startDynamo({ port: dynamoPort, dataDir: paths.dynamodb, watchdog }).then(async (running) => {
        cleanups.push(() => running.stop());
        const table = await ensureTable(running.endpoint, LOCAL_NAMES.tableName);
        if (table === 'created') log(`  created table ${LOCAL_NAMES.tableName}`);
        return running;
      }),
      startS3({ port: wanted.s3, directory: paths.s3 }).then(async (running) => {
        cleanups.push(() => running.stop());
        const created = await ensureBuckets(running.endpoint, [
          LOCAL_NAMES.auditBucket,
          LOCAL_NAMES.artifactBucket,
        ]);
        if (created.length > 0) log(`  created buckets ${created.join(', ')}`);
        return running;
      }),
      startCognito({ port: cognitoPort, dir: paths.cognito, watchdog }).then(async (running) => {
        cleanups.push(() => running.stop());
        const ids = await ensureIdentity(running.endpoint, state.identity);
        if (ids.created) log(`  created user pool ${ids.userPoolId} and app client ${ids.clientId}`);
        return { running, ids };
      }),
    ]);
    checkAborted();
    if (identity.ids.created || !state.identity) {
      state.identity = { userPoolId: identity.ids.userPoolId, clientId: identity.ids.clientId };
      // A new pool has none of the old users: the demo data must be made again.
      if (identity.ids.created) delete state.demo;
      if (identity.ids.created) delete state.platformAdmin;
      await saveState(stateDir, state);
    }

    const { issuer, jwksUri } = issuerOf(identity.running.endpoint, identity.ids.userPoolId);
    const env = platformEnv({
      stateDir,
      dynamodbEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      cognitoEndpoint: identity.running.endpoint,
      userPoolId: identity.ids.userPoolId,
      clientId: identity.ids.clientId,
      issuer,
      jwksUri,
      quiet,
    });
    const { applied, restore } = applyEnv(env);
    cleanups.push(async () => restore());

    const current = fingerprint(env.owned);
    if (loadedEnvFingerprint !== undefined && loadedEnvFingerprint !== current) {
      throw new LocalPlatformError(
        "The handlers were already imported in this process with another platform's configuration " +
          '(they read it once, at import). Start this platform in its own process.',
      );
    }
    // What each function sends, for test/calls/aws-calls.test.ts (bin/local/call-log.ts).
    if (process.env.MERIDIAN_LOCAL_CALL_LOG) await recordCalls(process.env.MERIDIAN_LOCAL_CALL_LOG);
    const handlers = await loadHandlers();
    loadedEnvFingerprint = current;
    const maxWait = process.env.MERIDIAN_LOCAL_MAX_WAIT_MS;
    const runtime = await startWorkflowRuntime({
      ...(maxWait ? { maxWaitMs: Number(maxWait) } : {}),
      ...(quiet ? {} : { log }),
    });
    // Schedules fire through the same fire function as on AWS; the test harness speeds them up.
    const deliveries = process.env.MERIDIAN_LOCAL_SCHEDULE_DELIVERIES;
    const scheduler = await startLocalScheduler({
      tableName: env.owned.TABLE_NAME ?? '',
      seconds: process.env.MERIDIAN_LOCAL_SCHEDULE_SECONDS,
      ...(deliveries ? { deliveries: Number(deliveries) } : {}),
      log,
    });
    cleanups.push(async () => scheduler.stop());
    cleanups.push(async () => {
      await jobRuntimes.get(runtime)?.close();
      await runtime.close();
    });
    // The table's stream → the audit stream consumer, as DynamoDB Streams → Lambda on AWS.
    const { handler: auditConsumer } = await import('../../functions/handlers/audit-stream.ts');
    const auditStream = await startAuditStream({
      endpoint: dynamo.endpoint,
      tableName: env.owned.TABLE_NAME ?? '',
      stateDir,
      intervalMs: Number(process.env.AUDIT_DIGEST_INTERVAL_SECONDS ?? 10) * 1000,
      handler: asFunction('auditStream', auditConsumer),
      log,
    });
    cleanups.push(() => auditStream.stop());
    checkAborted();

    const localRoutes: LocalRoutesOptions = { stateDir, handlers };
    const server = await startApiServer({
      handlers,
      port: wanted.api,
      quiet,
      log,
      local: (input) => localRoute(input, localRoutes),
      console: {
        // Same origin as the API; sign-in goes to cognito-local as the hosted login would to Cognito.
        config: () => ({
          apiUrl: '',
          passwordSignIn: { cognitoEndpoint: identity.running.endpoint, clientId: identity.ids.clientId },
          // Once the local OpenID provider runs: SSO through this platform as the console's OAuth server.
          ...(localRoutes.sso
            ? {
                sso: {
                  authorizeUrl: '/local/sso/authorize',
                  tokenUrl: '/local/sso/token',
                  clientId: CONSOLE_CLIENT_ID,
                  label: 'Sign in with SSO (local OpenID provider)',
                },
              }
            : {}),
        }),
      },
    });
    cleanups.push(() => server.close());
    const healthMs = performance.now() - startedAt;
    const cognito = {
      endpoint: identity.running.endpoint,
      userPoolId: identity.ids.userPoolId,
      clientId: identity.ids.clientId,
    };

    // The demo tenant's corporate IdP, and the platform as its relying party (Cognito's hosted
    // login plays that part on AWS).
    const sso = new LocalSso({ apiUrl: server.url, cognito });
    state.sso ??= { clientSecret: generatePassword() };
    const idp = await startLocalIdp({
      port: ports[4] ?? wanted.idp,
      accounts: DEMO_IDP.accounts.map((a) => ({ email: a.email, groups: [...a.groups] })),
      clients: [
        {
          clientId: DEMO_IDP.clientId,
          clientSecret: state.sso.clientSecret,
          redirectUris: [sso.redirectUri],
        },
      ],
    });
    cleanups.push(() => idp.stop());
    localRoutes.sso = sso;

    const demo = await bootstrap({
      apiUrl: server.url,
      stateDir,
      state,
      cognito,
      log,
      idpIssuer: idp.issuer,
    });
    sso.defaultTenantId = demo.tenant.tenantId;
    checkAborted();

    return {
      apiUrl: server.url,
      consoleUrl: `${server.url}/console/`,
      demo,
      env: applied,
      stateDir,
      endpoints: { dynamodb: dynamo.endpoint, s3: s3.endpoint, cognito: identity.running.endpoint },
      timings: { healthMs: Math.round(healthMs), readyMs: Math.round(performance.now() - startedAt) },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

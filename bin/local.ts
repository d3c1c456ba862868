/**
 * `npm start`: the whole platform on this machine, no Docker and no AWS. DynamoDB Local, s3rver and
 * cognito-local run as emulators, the real Lambda handlers serve the API, and state persists under
 * `.local/` (or `MERIDIAN_STATE_DIR`). Ctrl-C stops everything it started.
 *
 * Ports: PORT (API, 3000), MERIDIAN_DYNAMODB_PORT (8000), MERIDIAN_S3_PORT (4569),
 * MERIDIAN_COGNITO_PORT (9229), MERIDIAN_IDP_PORT (9230, the local OpenID provider); 0 picks a free port.
 *
 * Environment precedence: the variables that point the handlers at the emulators (endpoints,
 * credentials, region, names, ids) are always set by the platform and override the shell's, so
 * local requests can never reach LocalStack or real AWS by accident; log-level style knobs
 * (POWERTOOLS_LOG_LEVEL, POWERTOOLS_METRICS_DISABLED, SECRETS_PREFIX) keep a value the shell already set.
 * See bin/local/env.ts.
 */

import { spawnSync } from 'node:child_process';
import { isAbsolute, relative } from 'node:path';
import { consoleNeedsBuild } from './local/console.ts';
import { LocalPlatformError } from './local/errors.ts';
import { type LocalPlatform, startLocalPlatform } from './local/platform.ts';
import { statePaths } from './local/state.ts';

/** `path` relative to the working directory when inside it (shorter to copy), else absolute. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : `./${rel}`;
}

function banner(platform: LocalPlatform): string {
  const demoFile = display(statePaths(platform.stateDir).demo);
  const stateDir = display(platform.stateDir);
  const { cognito } = platform.demo;
  const admin = platform.demo.users[0]?.username ?? 'admin@demo.meridian.local';
  const envPrefix = stateDir === './.local' ? '' : `MERIDIAN_STATE_DIR=${stateDir} `;
  const passwordOf = `$(node -p "require('${demoFile}').users.find(u => u.username === '${admin}').password")`;
  return [
    '',
    `Meridian local platform is up (${(platform.timings.readyMs / 1000).toFixed(1)} s; /health served after ${(platform.timings.healthMs / 1000).toFixed(1)} s)`,
    `  Console        ${platform.consoleUrl}   (sign in with a user from demo.json)`,
    `  API            ${platform.apiUrl}`,
    `  DynamoDB Local ${platform.endpoints.dynamodb}   table ${platform.env.TABLE_NAME}`,
    `  S3 (s3rver)    ${platform.endpoints.s3}   buckets ${platform.env.AUDIT_BUCKET_NAME}, ${platform.env.ARTIFACT_BUCKET_NAME}`,
    `  Cognito        ${platform.endpoints.cognito}   pool ${cognito.userPoolId}, client ${cognito.clientId}`,
    `  State          ${stateDir}   (users and passwords of the demo tenant "${platform.demo.tenant.name}": ${demoFile})`,
    ...(platform.demo.sso
      ? [
          `  OpenID IdP     ${platform.demo.sso.issuer}   (the demo tenant's single sign-on)`,
          `  SSO sign-in    ${platform.apiUrl}/local/sso/start?email=${platform.demo.sso.accounts[0]?.email ?? ''}`,
        ]
      : []),
    `  Mailbox        ${display(`${platform.stateDir}/mailbox`)}   (invitations; GET /local/mailbox as the platform admin)`,
    '',
    'Get an access token (any user in demo.json, or platform-admin@meridian.local):',
    `  TOKEN=$(${envPrefix}npx tsx bin/token.ts ${admin})`,
    'or with curl against cognito-local:',
    `  TOKEN=$(curl -s ${cognito.endpoint}/ -H 'Content-Type: application/x-amz-json-1.1' \\`,
    "    -H 'X-Amz-Target: AWSCognitoIdentityProviderService.InitiateAuth' \\",
    `    -d '{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"${cognito.clientId}","AuthParameters":{"USERNAME":"${admin}","PASSWORD":"'"${passwordOf}"'"}}' \\`,
    `    | node -p "JSON.parse(require('fs').readFileSync(0,'utf8')).AuthenticationResult.AccessToken")`,
    '',
    'Call the API:',
    `  curl -s ${platform.apiUrl}/me -H "Authorization: Bearer $TOKEN"`,
    `  curl -s ${platform.apiUrl}/health/ready`,
    '',
    'Ctrl-C stops everything.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  // The SDK's notice that future versions need Node 22 says nothing actionable for a local run.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const abort = new AbortController();
  let platform: LocalPlatform | undefined;
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // Second Ctrl-C: leave now; the watchdog still stops the emulators.
      process.exit(130);
    }
    stopping = true;
    abort.abort();
    if (!platform) return; // Still starting: startLocalPlatform cleans up and rejects.
    console.log(`\n${signal}: stopping the local platform...`);
    platform.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  // The console is static files; build them when missing or older than their sources.
  if (process.env.MERIDIAN_CONSOLE_BUILD !== 'skip' && (await consoleNeedsBuild())) {
    console.log('Building the console (npm run console:build)...');
    const built = spawnSync('npm', ['run', '--silent', 'console:build'], { stdio: 'inherit' });
    if (built.status !== 0)
      console.error('The console build failed; the API still starts, /console/ answers 503.');
  }

  try {
    console.log('Starting the Meridian local platform...');
    platform = await startLocalPlatform({ signal: abort.signal });
  } catch (error) {
    if (stopping) process.exit(130);
    if (error instanceof LocalPlatformError) console.error(`\n${error.message}`);
    else console.error('\nThe local platform failed to start:', error);
    process.exit(1);
  }
  if (stopping) {
    await platform.stop();
    process.exit(130);
  }
  console.log(banner(platform));
}

await main();

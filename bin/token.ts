/**
 * Prints an access token for a user of the local platform, signing in against cognito-local:
 *
 *   TOKEN=$(npx tsx bin/token.ts admin@demo.meridian.local)
 *   npx tsx bin/token.ts viewer@demo.meridian.local --id     # the id token instead
 *   npx tsx bin/token.ts ada@acme.example --new-password 'Choose-1t-well'   # an invited user
 *
 * The password is `--password`, else the one in `<stateDir>/demo.json`, else the temporary password
 * of the user's newest invitation in `<stateDir>/mailbox`. An invited user's first sign-in must set
 * a password (`--new-password`); later sign-ins pass it with `--password`. With no username it signs
 * in the demo tenant's admin. The state dir is MERIDIAN_STATE_DIR or `.local`.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { LocalMailbox, temporaryPasswordOf } from '#adapters/local-mailbox.ts';
import { NewPasswordRequiredError, passwordLogin } from './local/auth.ts';
import { type DemoInfo, readJson, statePaths } from './local/state.ts';

async function main(): Promise<void> {
  // Only the token belongs on stdout; keep the SDK's Node-version notice out of stderr too.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      id: { type: 'boolean', default: false },
      password: { type: 'string' },
      'new-password': { type: 'string' },
    },
  });
  const stateDir = resolve(process.env.MERIDIAN_STATE_DIR ?? '.local');
  const demoPath = statePaths(stateDir).demo;
  const demo = await readJson<DemoInfo>(demoPath);
  if (!demo) {
    console.error(`${demoPath} does not exist: start the platform first with \`npm start\`.`);
    process.exit(1);
  }
  const known = [...demo.users, { ...demo.platformAdmin, roles: ['platform-admin'] }];
  const username = (positionals[0] ?? demo.users[0]?.username ?? '').toLowerCase();
  const password =
    values.password ??
    known.find((candidate) => candidate.username === username)?.password ??
    (await LocalMailbox.of(stateDir)
      .list(username)
      .then((mails) => mails.map(temporaryPasswordOf).find((p) => p !== undefined)));
  if (!password) {
    console.error(
      `No password for ${username}: not in ${demoPath}, and no invitation in ${stateDir}/mailbox. ` +
        `Pass --password. Known: ${known.map((candidate) => candidate.username).join(', ')}`,
    );
    process.exit(1);
  }
  try {
    const tokens = await passwordLogin(demo.cognito, username, password, values['new-password']);
    process.stdout.write(`${values.id ? tokens.idToken : tokens.accessToken}\n`);
  } catch (error) {
    if (error instanceof NewPasswordRequiredError) {
      console.error(`${error.message} Then sign in with --password.`);
      process.exit(2);
    }
    console.error(
      `Sign-in of ${username} against ${demo.cognito.endpoint} failed (is \`npm start\` running?): ${(error as Error).message}`,
    );
    process.exit(1);
  }
}

await main();

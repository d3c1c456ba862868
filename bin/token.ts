/**
 * Prints an access token for a user of the local platform, signing in against cognito-local with the
 * password stored in `<stateDir>/demo.json`:
 *
 *   TOKEN=$(npx tsx bin/token.ts admin@demo.meridian.local)
 *   npx tsx bin/token.ts viewer@demo.meridian.local --id     # the id token instead
 *
 * With no username it signs in the demo tenant's admin. The state dir is MERIDIAN_STATE_DIR or `.local`.
 */
import { resolve } from 'node:path';
import { passwordLogin } from './local/auth.ts';
import { type DemoInfo, readJson, statePaths } from './local/state.ts';

async function main(): Promise<void> {
  // Only the token belongs on stdout; keep the SDK's Node-version notice out of stderr too.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const args = process.argv.slice(2);
  const wantId = args.includes('--id');
  const username = args.find((arg) => !arg.startsWith('--'));
  const demoPath = statePaths(resolve(process.env.MERIDIAN_STATE_DIR ?? '.local')).demo;
  const demo = await readJson<DemoInfo>(demoPath);
  if (!demo) {
    console.error(`${demoPath} does not exist: start the platform first with \`npm start\`.`);
    process.exit(1);
  }
  const users = [...demo.users, { ...demo.platformAdmin, roles: ['platform-admin'] }];
  const user =
    username === undefined ? demo.users[0] : users.find((candidate) => candidate.username === username);
  if (!user) {
    console.error(
      `No user ${username} in ${demoPath}. Known: ${users.map((candidate) => candidate.username).join(', ')}`,
    );
    process.exit(1);
  }
  try {
    const tokens = await passwordLogin(demo.cognito, user.username, user.password);
    process.stdout.write(`${wantId ? tokens.idToken : tokens.accessToken}\n`);
  } catch (error) {
    console.error(
      `Sign-in of ${user.username} against ${demo.cognito.endpoint} failed (is \`npm start\` running?): ${(error as Error).message}`,
    );
    process.exit(1);
  }
}

await main();

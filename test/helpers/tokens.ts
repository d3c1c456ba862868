import { inject } from 'vitest';
import { passwordLogin, type Tokens } from '../../bin/local/auth.ts';
import type { DemoUser } from '../../bin/local/state.ts';

// The SDK's notice that its future versions need Node 22 is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Built-in roles of the demo tenant's users (demo.json). */
export type DemoRole = 'admin' | 'developer' | 'operator' | 'viewer';

/** The demo user holding `role`. */
export function demoUser(role: DemoRole): DemoUser {
  const user = inject('demo').users.find((candidate) => candidate.roles.includes(role));
  if (!user) throw new Error(`demo.json has no user with role ${role}`);
  return user;
}

const cache = new Map<string, Promise<Tokens>>();

function tokensFor(username: string): Promise<Tokens> {
  const demo = inject('demo');
  let tokens = cache.get(username);
  if (!tokens) {
    const known = [...demo.users, demo.platformAdmin].find((user) => user.username === username);
    if (!known) throw new Error(`${username} is not in demo.json`);
    tokens = passwordLogin(demo.cognito, known.username, known.password);
    // A failed sign-in must not be cached.
    tokens.catch(() => cache.delete(username));
    cache.set(username, tokens);
  }
  return tokens;
}

/** An access token for a demo user (by role or username), signed in once per test file via cognito-local. */
export async function accessToken(who: DemoRole | string = 'admin'): Promise<string> {
  const username = who.includes('@') ? who : demoUser(who as DemoRole).username;
  return (await tokensFor(username)).accessToken;
}

/** An id token for a demo user: for negative tests (the API accepts access tokens only). */
export async function idToken(who: DemoRole | string = 'admin'): Promise<string> {
  const username = who.includes('@') ? who : demoUser(who as DemoRole).username;
  return (await tokensFor(username)).idToken;
}

/** An access token of the platform operator (group platform-admins, no tenant). */
export async function platformAdminToken(): Promise<string> {
  return (await tokensFor(inject('demo').platformAdmin.username)).accessToken;
}

import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * What the platform remembers between starts, in `<stateDir>/platform.json`: the ids emulators
 * generated and the passwords bootstrap chose, so a restart reuses them instead of creating
 * duplicates. Holds passwords, hence mode 0600.
 */
export interface PlatformState {
  readonly version: 1;
  identity?: { userPoolId: string; clientId: string };
  platformAdmin?: { username: string; password: string };
  demo?: {
    tenantId?: string;
    /** Password chosen per demo username, saved before it is set so a retry reuses it. */
    passwords: Record<string, string>;
    complete: boolean;
  };
  /** The demo tenant's local OpenID provider: its client secret, and the provider registered for it. */
  sso?: { clientSecret: string; providerId?: string; issuer?: string };
}

/** One signed-in demo user in `demo.json`. */
export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly roles: readonly string[];
}

/** `<stateDir>/demo.json`: everything a client (or a test) needs to call the local API. */
export interface DemoInfo {
  readonly apiUrl: string;
  readonly cognito: { readonly endpoint: string; readonly userPoolId: string; readonly clientId: string };
  readonly platformAdmin: { readonly username: string; readonly password: string };
  readonly tenant: { readonly tenantId: string; readonly name: string };
  readonly users: readonly DemoUser[];
  /** Single sign-on through the local OpenID provider (README: "Single sign-on locally"). */
  readonly sso?: {
    readonly issuer: string;
    readonly providerId: string;
    /** Sign in as one of these at `GET /local/sso/start?email=<account>`. */
    readonly accounts: readonly { readonly email: string; readonly groups: readonly string[] }[];
  };
}

/** Paths inside a state directory. */
export function statePaths(stateDir: string): {
  platform: string;
  demo: string;
  dynamodb: string;
  s3: string;
  cognito: string;
} {
  return {
    platform: join(stateDir, 'platform.json'),
    demo: join(stateDir, 'demo.json'),
    dynamodb: join(stateDir, 'dynamodb'),
    s3: join(stateDir, 's3'),
    cognito: join(stateDir, 'cognito'),
  };
}

/** Reads a JSON file, or `undefined` when it does not exist. */
export async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`Cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Writes JSON atomically (temp file, then rename) with mode 0600: these files hold passwords. */
export async function writeSecretJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temp, path);
  // rename keeps the temp file's mode, but an older file's umask-widened mode must not survive.
  await chmod(path, 0o600);
}

/** Loads `platform.json`, or a fresh state on first start. */
export async function loadState(stateDir: string): Promise<PlatformState> {
  return (await readJson<PlatformState>(statePaths(stateDir).platform)) ?? { version: 1 };
}

/** Saves `platform.json`. */
export function saveState(stateDir: string, state: PlatformState): Promise<void> {
  return writeSecretJson(statePaths(stateDir).platform, state);
}

/**
 * A strong password that satisfies Cognito's default policy (upper, lower, digit, symbol, 8+):
 * 144 random bits, plus one character of each class.
 */
export function generatePassword(): string {
  return `${randomBytes(18).toString('base64url')}-Aa1`;
}

import { expect } from 'vitest';
import { type ApiResponse, type CallOptions, call, type Problem } from '../../helpers/api.ts';
import { authCacheTimeoutMs, eventually } from '../../helpers/tenants.ts';

/**
 * What the tenancy and access-control files in this folder share: the API's answer shapes
 * (docs/api.md) and small request helpers. Each file works on tenants of its own (made once per
 * area), so nothing depends on the demo tenant's state or on another file.
 */

// Shapes of the API's answers (docs/api.md).
export interface TenantView {
  tenantId: string;
  name: string;
  plan: string;
  status: string;
  adminEmail: string;
  createdAt: string;
  updatedAt: string;
}
export interface UserView {
  userId: string;
  tenantId: string;
  email: string;
  roles: string[];
  teams: string[];
  status: string;
}
export interface TeamView {
  teamId: string;
  name: string;
  members: string[];
}
export interface RoleView {
  name: string;
  permissions: string[];
  builtIn: boolean;
}
export interface KeyView {
  keyId: string;
  name: string;
  scopes: string[];
  expiresAt: string;
  lastUsedAt?: string;
  key?: string;
}
export interface SecretView {
  name: string;
  version: number;
  description?: string;
  createdAt: string;
  updatedAt: string;
}
export interface Me {
  tenantId?: string;
  principal: { id: string; type: string; email?: string };
  roles: string[];
  permissions: string[];
}
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}
export interface Verdict {
  ok: boolean;
  digests: number;
  digested: number;
  undigested: number;
  firstDivergence?: { kind: string; recordId?: string; message: string };
}

/** The permissions exactly as docs/api.md lists them (not imported from the code under test). */
export const CONTRACT_PERMISSIONS = [
  'agents:read',
  'agents:write',
  'tools:read',
  'tools:write',
  'workflows:read',
  'workflows:write',
  'workflows:promote',
  'executions:start',
  'executions:read',
  'executions:cancel',
  'approvals:decide',
  'secrets:write',
  'secrets:use',
  'users:manage',
  'roles:manage',
  'apikeys:manage',
  'usage:read',
  'budgets:manage',
  'audit:read',
  'notifications:manage',
  'tenant:admin',
] as const;

export const inAYear = (days = 30): string => new Date(Date.now() + days * 24 * 3600 * 1000).toISOString();

export function expectProblem(response: ApiResponse<unknown>, status: number, code?: string): Problem {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/problem+json');
  const problem = response.body as Problem;
  if (code) expect(problem.type).toMatch(new RegExp(`/${code}$`));
  return problem;
}

/** The field paths a 400/409 problem names. */
export function errorPaths(response: ApiResponse<unknown>): string[] {
  return ((response.body as Problem).errors ?? []).map((e) => e.path);
}

/** Every item of a list, following `nextCursor`. */
export async function listAll<T>(path: string, options: CallOptions, limit = 100): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  const separator = path.includes('?') ? '&' : '?';
  do {
    const page = await call<Page<T>>(
      'GET',
      `${path}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      options,
    );
    expect(page.status, page.text).toBe(200);
    out.push(...page.body.items);
    cursor = page.body.nextCursor;
  } while (cursor);
  return out;
}

export async function statusOf(method: string, path: string, options: CallOptions): Promise<number> {
  return (await call(method, path, options)).status;
}

/** Waits until `GET /me` with `options` answers `status` (the authorizer cache lets changes bite within its TTL). */
export async function meBecomes(options: CallOptions, status: number, extraMs = 0): Promise<void> {
  await eventually(async () => expect(await statusOf('GET', '/me', options)).toBe(status), {
    timeoutMs: authCacheTimeoutMs(extraMs),
  });
}

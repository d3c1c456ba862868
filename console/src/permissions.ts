import type { paths } from '../../clients/client.ts';

/** A permission, as the API's schemas enumerate it (API key scopes, role permissions). */
export type Permission = NonNullable<
  paths['/api-keys']['post']['requestBody']
>['content']['application/json']['scopes'][number];

/**
 * Every permission; `satisfies` keeps each entry valid against the generated client's enum, and
 * test/unit/console-permissions.test.ts keeps the list whole against the API's own.
 */
export const PERMISSIONS = [
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
] as const satisfies readonly Permission[];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

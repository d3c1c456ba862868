import type { paths } from '../../clients/client.ts';

/** A permission, as the API's schemas enumerate it (API key scopes, role permissions). */
export type Permission = NonNullable<
  paths['/api-keys']['post']['requestBody']
>['content']['application/json']['scopes'][number];

/** Every permission; `satisfies` keeps this list in step with the generated client's enum. */
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
  'tenant:admin',
] as const satisfies readonly Permission[];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}

/**
 * Permissions and built-in roles, exactly as the API contract (docs/api.md) lists them.
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
  /** Bind a secret to an agent or tool (only secrets that allow one of the caller's roles). */
  'secrets:use',
  'users:manage',
  'roles:manage',
  'apikeys:manage',
  'usage:read',
  'budgets:manage',
  'audit:read',
  /** Notification channels, and the notifications sent with their delivery logs. */
  'notifications:manage',
  'tenant:admin',
] as const;

/** A tenant-scoped permission. */
export type Permission = (typeof PERMISSIONS)[number];

/** Held only by platform operators (Cognito group `platform-admins`); grants the `/tenants` routes. */
export const PLATFORM_ADMIN = 'platform:admin';

const PERMISSION_SET: ReadonlySet<string> = new Set(PERMISSIONS);

/** Narrows a string to a {@link Permission}. */
export function isPermission(value: string): value is Permission {
  return PERMISSION_SET.has(value);
}

const reads = PERMISSIONS.filter((p) => p.endsWith(':read'));

/** Built-in roles: read-only, present in every tenant, resolved from code (not stored). */
export const BUILT_IN_ROLES: Readonly<Record<string, readonly Permission[]>> = Object.freeze({
  admin: [...PERMISSIONS],
  developer: [
    'agents:read',
    'agents:write',
    'tools:read',
    'tools:write',
    'workflows:read',
    'workflows:write',
    'executions:start',
    'executions:read',
    'usage:read',
    // Developers build agents and tools; which secrets they may bind is each secret's allowedRoles.
    'secrets:use',
  ],
  operator: [
    'agents:read',
    'tools:read',
    'workflows:read',
    'executions:start',
    'executions:read',
    'executions:cancel',
    'approvals:decide',
    'usage:read',
  ],
  viewer: reads.filter((p) => p !== 'audit:read'),
  auditor: reads,
});

/** True when `name` is a built-in role (which cannot be created, changed or deleted). */
export function isBuiltInRole(name: string): boolean {
  return Object.hasOwn(BUILT_IN_ROLES, name);
}

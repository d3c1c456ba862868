import type { paths } from '../../clients/client.ts';
import { PERMISSIONS as API_PERMISSIONS, isPermission } from '../../functions/core/access/permissions.ts';

/** A permission, as the API's schemas enumerate it (API key scopes, role permissions). */
export type Permission = NonNullable<
  paths['/api-keys']['post']['requestBody']
>['content']['application/json']['scopes'][number];

/**
 * Every permission: the API's own list (a module without imports, bundled as data), checked by
 * `satisfies` against the generated client's enum, so the forms offer exactly what the API accepts.
 */
export const PERMISSIONS = API_PERMISSIONS satisfies readonly Permission[];

export { isPermission };

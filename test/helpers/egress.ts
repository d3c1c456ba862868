import { call } from './api.ts';
import { platformAdminToken } from './tokens.ts';

/**
 * The loopback address of test servers a tenant may reach once a platform admin allowlisted it
 * (`startLocalServer(handler, ALLOWED_LOOPBACK)`). 127.0.0.1, where the platform's own emulators
 * listen, stays refused, so allowlisting this one opens nothing else.
 */
export const ALLOWED_LOOPBACK = '127.0.0.2';

/** `PUT /tenants/{tenantId}/egress` as the platform admin; fails the test unless it answers 200. */
export async function allowEgress(
  tenantId: string,
  allow: readonly string[] = [ALLOWED_LOOPBACK],
): Promise<void> {
  const response = await call('PUT', `/tenants/${tenantId}/egress`, {
    token: await platformAdminToken(),
    body: { allow },
  });
  if (response.status !== 200) {
    throw new Error(`PUT /tenants/${tenantId}/egress: ${response.status} ${response.text.slice(0, 500)}`);
  }
}

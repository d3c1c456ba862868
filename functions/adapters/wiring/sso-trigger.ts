import type { TenancyStore } from '#core/tenancy/ports.ts';
import { config, core } from '#shared/config.ts';
import { DynamoIdentityProviderStore } from '../dynamo/identity-provider-store.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { tableOnly } from './base.ts';

/** The SSO trigger's adapters: identity providers and users, through its tenant data role. */
export interface SsoTriggerWiring {
  readonly providers: DynamoIdentityProviderStore;
  readonly store: TenancyStore;
}

/** The SSO trigger's settings: the table only. */
export const SSO_TRIGGER_SETTINGS = [core] as const;

let wired: SsoTriggerWiring | undefined;

/** The SSO trigger's composition root, built once per container. */
export function ssoTriggerWiring(): SsoTriggerWiring {
  if (wired) return wired;
  const { table } = tableOnly(config(SSO_TRIGGER_SETTINGS));
  wired = { providers: new DynamoIdentityProviderStore(table), store: dynamoTenancyStore(table) };
  return wired;
}

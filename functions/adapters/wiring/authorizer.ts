import type { TenancyStore } from '#core/tenancy/ports.ts';
import { authCache, config, core, localTokens, type SettingsOf, userPool } from '#shared/config.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { tableOnly } from './base.ts';

/** The authorizer's adapters: the table, through its tenant data role. */
export interface AuthorizerWiring {
  readonly cfg: SettingsOf<typeof AUTHORIZER_SETTINGS>;
  readonly store: TenancyStore;
}

/** The authorizer's settings: it verifies tokens against the pool (cognito-local's issuer locally). */
export const AUTHORIZER_SETTINGS = [core, userPool, localTokens, authCache] as const;

let wired: AuthorizerWiring | undefined;

/** The authorizer's composition root, built once per container. */
export function authorizerWiring(): AuthorizerWiring {
  if (wired) return wired;
  const cfg = config(AUTHORIZER_SETTINGS);
  wired = { cfg, store: dynamoTenancyStore(tableOnly(cfg).table) };
  return wired;
}

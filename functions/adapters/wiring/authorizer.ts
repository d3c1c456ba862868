import type { TenancyStore } from '#core/tenancy/ports.ts';
import { config, type RuntimeConfig } from '#shared/config.ts';
import { FUNCTION_SETTINGS } from '#shared/settings.ts';
import { dynamoTenancyStore } from '../dynamo/tenancy-store.ts';
import { tableOnly } from './base.ts';

/** The authorizer's adapters: the table, through its tenant data role. */
export interface AuthorizerWiring {
  readonly cfg: RuntimeConfig;
  readonly store: TenancyStore;
}

let wired: AuthorizerWiring | undefined;

/** The authorizer's composition root, built once per container. */
export function authorizerWiring(): AuthorizerWiring {
  if (wired) return wired;
  const cfg = config(FUNCTION_SETTINGS.authorizer);
  wired = { cfg, store: dynamoTenancyStore(tableOnly(cfg).table) };
  return wired;
}

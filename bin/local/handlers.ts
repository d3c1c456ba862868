import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { LocalPlatformError } from './errors.ts';
import type { ApiHandler, AuthorizerHandler, Handlers } from './server.ts';

/** The Lambda entry points the deployed HTTP API runs. */
export const HANDLER_MODULES = Object.freeze({
  api: new URL('../../functions/handlers/api.ts', import.meta.url),
  authorizer: new URL('../../functions/handlers/authorizer.ts', import.meta.url),
});

async function loadHandler(url: URL): Promise<(...args: never[]) => unknown> {
  const path = fileURLToPath(url);
  if (!existsSync(path)) {
    throw new LocalPlatformError(
      `${path} does not exist yet: the local platform runs the deployed handlers.`,
    );
  }
  // A computed specifier keeps the type checker from requiring the file to exist at build time.
  const module: unknown = await import(url.href);
  const handler = typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
  if (typeof handler !== 'function') {
    throw new LocalPlatformError(`${path} does not export a function named \`handler\`.`);
  }
  return handler as (...args: never[]) => unknown;
}

/**
 * Imports the API and authorizer handlers. They read their configuration from `process.env` when
 * imported, so the platform's environment must be applied before this is called; and since module
 * instances are cached per process, they keep that configuration for the life of the process.
 */
export async function loadHandlers(): Promise<Handlers> {
  const [api, authorizer] = await Promise.all([
    loadHandler(HANDLER_MODULES.api),
    loadHandler(HANDLER_MODULES.authorizer),
  ]);
  // The handlers' own signatures use the contract's narrower event types; at this boundary the
  // server guarantees the HTTP API shapes, so the wider types are the right view here.
  return {
    api: (event, context) => Promise.resolve((api as unknown as ApiHandler)(event, context)),
    authorizer: (event, context) =>
      Promise.resolve((authorizer as unknown as AuthorizerHandler)(event, context)),
  };
}

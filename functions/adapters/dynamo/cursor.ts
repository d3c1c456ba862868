import { ValidationError } from '#core/errors.ts';

/**
 * Opaque list cursors. A cursor names the tenant and the list it belongs to, so one minted for
 * another tenant or another list is refused (400) instead of silently paging something else.
 */
export function encodeCursor(
  scope: string,
  list: string,
  key: Record<string, unknown> | undefined,
): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify({ s: scope, l: list, k: key }), 'utf8').toString('base64url');
}

/** Decodes a cursor for `scope`/`list`, or throws a 400 naming `query.cursor`. */
export function decodeCursor(
  cursor: string | undefined,
  scope: string,
  list: string,
): Record<string, unknown> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = (message: string) =>
    new ValidationError(`The cursor is not valid here: ${message}.`, [{ path: 'query.cursor', message }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid('unreadable cursor');
  }
  if (typeof decoded !== 'object' || decoded === null) throw invalid('unreadable cursor');
  const { s, l, k } = decoded as { s?: unknown; l?: unknown; k?: unknown };
  if (s !== scope || l !== list) throw invalid('cursor belongs to another list or tenant');
  if (typeof k !== 'object' || k === null) throw invalid('unreadable cursor');
  const key = k as Record<string, unknown>;
  // The key must stay inside the caller's own partition: a forged cursor cannot reach elsewhere.
  if (typeof key.pk === 'string' && scope !== 'platform' && !key.pk.startsWith(`TENANT#${scope}`)) {
    throw invalid('cursor belongs to another list or tenant');
  }
  return key;
}

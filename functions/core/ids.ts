import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A random lower-case alphanumeric string of `length` characters (about 5.17 bits each). */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 252 = 7 * 36: bytes at or above it are re-drawn so every character is equally likely.
  for (let i = 0; out.length < length; i++) {
    const b = i < bytes.length ? (bytes[i] ?? 0) : (randomBytes(1)[0] ?? 0);
    if (b < 252) out += ALPHABET[b % 36];
  }
  return out;
}

/**
 * A new opaque id: a one-letter kind prefix and 16 random characters (~82 bits). Every id has the same
 * length and no `#`, so no tenant id can be a prefix of another across the key delimiter.
 */
export function newId(prefix: 't' | 'u' | 'k' | 'm' | 'a' | 'o' | 'w' | 'x' | 'p' | 's' | 'h' | 'c'): string {
  return `${prefix}${randomToken(16)}`;
}

/** The shape every generated id has. */
export const ID_PATTERN = /^[a-z][a-z0-9]{16}$/;

/** `length` (at most 32) lower-case alphanumeric characters derived from `seed`: same seed, same token. */
export function derivedToken(seed: string, length: number): string {
  const digest = createHash('sha256').update(seed, 'utf8').digest();
  let out = '';
  for (let i = 0; out.length < length; i++) out += ALPHABET[(digest[i] ?? 0) % 36];
  return out;
}

/** A stable id derived from `seed` (same seed, same id): idempotent names such as executions'. */
export function derivedId(prefix: 'x' | 'p' | 'r', seed: string): string {
  return `${prefix}${derivedToken(seed, 16)}`;
}

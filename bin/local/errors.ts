/**
 * A problem the user can fix (a taken port, no Java, an API route missing): `npm start` prints the
 * message alone, without a stack trace, and exits with status 1.
 */
export class LocalPlatformError extends Error {
  override readonly name: string = 'LocalPlatformError';
}

/**
 * The console's Content-Security-Policy, one policy for CloudFront (lib/constructs/console.ts) and
 * the local platform (bin/local/console.ts): scripts and styles only from its own origin (no inline
 * script, no eval), API calls to its origin plus `connectOrigins` (the API and the sign-in
 * endpoint), never framed. Over HTTPS, plain-HTTP subresources are upgraded.
 */
export function consoleCsp(connectOrigins: readonly string[], options: { https?: boolean } = {}): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src ${["'self'", ...connectOrigins].join(' ')}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(options.https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

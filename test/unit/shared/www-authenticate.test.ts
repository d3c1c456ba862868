import { describe, expect, it } from 'vitest';
import { TokenExpiredError, UnauthenticatedError } from '#core/errors.ts';
import { defineRoute, Router } from '#shared/router.ts';
import { apiEvent } from '../../helpers/events.ts';

const router = new Router([
  defineRoute({
    method: 'GET',
    path: '/secret',
    summary: 'read',
    tag: 't',
    auth: 'agents:read',
    responses: { 200: { description: 'ok' } },
    handler: async () => ({ status: 200, body: {} }),
  }),
]);

describe('401 challenges', () => {
  it.each([
    [
      'an expired token',
      'expired-token',
      'Bearer error="invalid_token", error_description="The access token has expired"',
      'The access token has expired; get a new one.',
    ],
    [
      'an invalid token',
      'invalid-token',
      'Bearer error="invalid_token", error_description="The access token is not valid"',
      'A valid bearer token or API key is required.',
    ],
    ['no credential', 'missing-credentials', 'Bearer', 'A valid bearer token or API key is required.'],
  ])('%s gets WWW-Authenticate: %s', async (_name, reason, challenge, detail) => {
    // Act
    const res = await router.handle(apiEvent({ path: '/secret', auth: { authenticated: false, reason } }));
    // Assess
    expect(res.statusCode).toBe(401);
    expect(res.headers?.['www-authenticate']).toBe(challenge);
    expect(JSON.parse(res.body ?? '{}')).toMatchObject({
      type: 'https://meridian.dev/problems/unauthenticated',
      title: 'Unauthorized',
      status: 401,
      detail,
    });
  });

  it('an expired token is still an UnauthenticatedError for code that only knows that', () => {
    // Assess
    expect(new TokenExpiredError('x')).toBeInstanceOf(UnauthenticatedError);
  });
});

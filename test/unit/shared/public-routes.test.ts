import { describe, expect, it } from 'vitest';
import { apiRoutes } from '#handlers/routes/index.ts';
import { PUBLIC_ROUTE_KEYS } from '#shared/public-routes.ts';

describe('PUBLIC_ROUTES', () => {
  it('lists exactly the routes declared `auth: public`', () => {
    // Act
    const declared = apiRoutes
      .filter((route) => route.auth === 'public')
      .map((route) => `${route.method} ${route.path}`);
    // Assess
    expect([...declared].sort()).toEqual([...PUBLIC_ROUTE_KEYS].sort());
  });
});

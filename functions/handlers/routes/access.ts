import { adapters } from '#adapters/wiring/api.ts';
import {
  createApiKey,
  DEFAULT_KEY_LIFETIME_DAYS,
  listApiKeys,
  MAX_GRACE_SECONDS,
  revokeApiKey,
  rotateApiKey,
} from '#core/tenancy/api-keys.ts';
import { createRole, deleteRole, getRole, listRoles, updateRole } from '#core/tenancy/roles.ts';
import { createTeam, deleteTeam, getTeam, listTeams, updateTeam } from '#core/tenancy/teams.ts';
import { deleteUser, eraseUser, inviteUser, listUsers, readUser, updateUser } from '#core/tenancy/users.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { dateTimeString, extend, int, oneOf, refined, t, trimmed, withMessage } from '#shared/schema.ts';
import { authErrors, created, email, idParam, listOf, pageOf, pageQuery, permission } from './schemas.ts';

const userSchema = t.Object({
  userId: t.String(),
  tenantId: t.String(),
  /** Absent once the person was erased. */
  email: t.Optional(t.String()),
  roles: t.Array(t.String()),
  teams: t.Array(t.String()),
  status: oneOf(['active', 'disabled']),
  createdAt: t.String(),
  updatedAt: t.String(),
  sso: t.Optional(
    t.Object(
      {
        providerId: t.String(),
        providerRemovedAt: t.Optional(
          t.String({
            description:
              'When that provider was deleted: the user is then no longer an SSO user, so while SSO is required they cannot act',
          }),
        ),
      },
      { description: 'Set for users made by single sign-on: the provider whose groups decide their roles' },
    ),
  ),
  erasedAt: t.Optional(t.String()),
});
const teamSchema = t.Object({
  teamId: t.String(),
  name: t.String(),
  description: t.Optional(t.String()),
  members: t.Optional(t.Array(t.String())),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const roleSchema = t.Object({
  name: t.String(),
  description: t.Optional(t.String()),
  permissions: t.Array(permission),
  builtIn: t.Boolean(),
  createdAt: t.Optional(t.String()),
  updatedAt: t.Optional(t.String()),
});
const apiKeySchema = t.Object({
  keyId: t.String(),
  name: t.String(),
  scopes: t.Array(permission),
  createdBy: t.String(),
  createdAt: t.String(),
  expiresAt: t.String(),
  lastUsedAt: t.Optional(t.String()),
  status: oneOf(['active', 'revoked']),
  previousValidUntil: t.Optional(t.String()),
  rotatedAt: t.Optional(t.String()),
  rotatedBy: t.Optional(t.String()),
});

const roleName = withMessage(
  t.String({ pattern: '^[a-z][a-z0-9-]{1,39}$' }),
  'lower-case letters, digits and dashes, 2 to 40 characters',
);
const roleList = t.Array(t.String({ minLength: 1, maxLength: 40 }), { minItems: 1, maxItems: 20 });
const teamList = t.Array(idParam, { maxItems: 20 });
const notFound = { 404: { description: 'Not found in this tenant' } } as const;

const userDeps = () => ({ store: adapters().store, directory: adapters().directory });
const store = () => adapters().store;

/** Users, teams, roles and API keys of the caller's tenant. */
export const accessRoutes: Route[] = [
  // Users
  defineRoute({
    method: 'GET',
    path: '/users',
    summary: 'List users',
    tag: 'users',
    auth: 'users:manage',
    query: pageQuery,
    responses: { 200: { description: 'Users', schema: listOf(userSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listUsers(userDeps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/users',
    summary: 'Invite a user by email with roles and teams',
    tag: 'users',
    auth: 'users:manage',
    body: t.Object({ email, roles: roleList, teams: t.Optional(teamList) }, { additionalProperties: false }),
    responses: {
      201: { description: 'Invited', schema: userSchema, headers: created },
      ...authErrors,
      409: {
        description: 'Email already used in this tenant (one used elsewhere answers 201, like a new one)',
      },
    },
    handler: async ({ principal, meta, body }) => {
      const user = await inviteUser(userDeps(), { principal, meta }, body);
      return { status: 201, body: user, headers: { location: `/users/${user.userId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/users/{userId}',
    summary: 'Read a user',
    tag: 'users',
    auth: 'users:manage',
    params: t.Object({ userId: idParam }, { additionalProperties: false }),
    responses: { 200: { description: 'The user', schema: userSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await readUser(userDeps(), principal.tenantId, params.userId),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/users/{userId}',
    summary: 'Change roles or teams, disable or enable',
    tag: 'users',
    auth: 'users:manage',
    params: t.Object({ userId: idParam }, { additionalProperties: false }),
    body: refined(
      t.Object(
        {
          roles: t.Optional(roleList),
          teams: t.Optional(teamList),
          status: t.Optional(oneOf(['active', 'disabled'])),
        },
        { additionalProperties: false },
      ),
      (b) => Object.keys(b).length > 0,
      'roles, teams or status is required',
    ),
    responses: { 200: { description: 'Updated', schema: userSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateUser(userDeps(), { principal, meta }, params.userId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/users/{userId}',
    summary: 'Delete a user and their login',
    tag: 'users',
    auth: 'users:manage',
    params: t.Object({ userId: idParam }, { additionalProperties: false }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await deleteUser(userDeps(), { principal, meta }, params.userId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/users/{userId}/erasure',
    summary:
      "Erase a person's personal data: their login, email, roles and teams go; the profile keeps only the opaque id the audit trail names them by",
    tag: 'users',
    auth: 'users:manage',
    params: t.Object({ userId: idParam }, { additionalProperties: false }),
    responses: {
      200: { description: 'The erased profile', schema: userSchema },
      ...authErrors,
      ...notFound,
      409: { description: 'You cannot erase yourself' },
    },
    handler: async ({ principal, meta, params }) => ({
      status: 200,
      body: await eraseUser(userDeps(), { principal, meta }, params.userId),
    }),
  }),
  // Teams
  defineRoute({
    method: 'GET',
    path: '/teams',
    summary: 'List teams',
    tag: 'teams',
    auth: 'users:manage',
    query: pageQuery,
    responses: { 200: { description: 'Teams', schema: listOf(teamSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listTeams(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/teams',
    summary: 'Create a team',
    tag: 'teams',
    auth: 'users:manage',
    body: t.Object(
      {
        name: trimmed(t.String({ minLength: 1, maxLength: 100 })),
        description: t.Optional(t.String({ maxLength: 500 })),
        members: t.Optional(t.Array(idParam, { maxItems: 90 })),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Created', schema: teamSchema, headers: created },
      ...authErrors,
      409: { description: 'Name in use' },
    },
    handler: async ({ principal, meta, body }) => {
      const team = await createTeam(store(), { principal, meta }, body);
      return { status: 201, body: team, headers: { location: `/teams/${team.teamId}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/teams/{teamId}',
    summary: 'Read a team with its members',
    tag: 'teams',
    auth: 'users:manage',
    params: t.Object({ teamId: idParam }, { additionalProperties: false }),
    responses: { 200: { description: 'The team', schema: teamSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getTeam(store(), principal.tenantId, params.teamId),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: '/teams/{teamId}',
    summary: 'Rename a team or replace its members',
    tag: 'teams',
    auth: 'users:manage',
    params: t.Object({ teamId: idParam }, { additionalProperties: false }),
    body: refined(
      t.Object(
        {
          name: t.Optional(trimmed(t.String({ minLength: 1, maxLength: 100 }))),
          description: t.Optional(t.String({ maxLength: 500 })),
          members: t.Optional(t.Array(idParam, { maxItems: 90 })),
        },
        { additionalProperties: false },
      ),
      (b) => Object.keys(b).length > 0,
      'name, description or members is required',
    ),
    responses: {
      200: { description: 'Updated', schema: teamSchema },
      ...authErrors,
      ...notFound,
      409: { description: 'Another team has that name' },
    },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateTeam(store(), { principal, meta }, params.teamId, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/teams/{teamId}',
    summary: 'Delete a team',
    tag: 'teams',
    auth: 'users:manage',
    params: t.Object({ teamId: idParam }, { additionalProperties: false }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await deleteTeam(store(), { principal, meta }, params.teamId);
      return { status: 204 };
    },
  }),
  // Roles
  defineRoute({
    method: 'GET',
    path: '/roles',
    summary: 'List built-in and custom roles',
    tag: 'roles',
    auth: 'roles:manage',
    query: pageQuery,
    responses: { 200: { description: 'Roles', schema: listOf(roleSchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listRoles(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/roles',
    summary: 'Create a custom role',
    tag: 'roles',
    auth: 'roles:manage',
    body: t.Object(
      {
        name: roleName,
        description: t.Optional(t.String({ maxLength: 500 })),
        permissions: t.Array(permission, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Created', schema: roleSchema, headers: created },
      ...authErrors,
      409: { description: 'Name in use' },
    },
    handler: async ({ principal, meta, body }) => {
      const role = await createRole(store(), { principal, meta }, body);
      return { status: 201, body: role, headers: { location: `/roles/${role.name}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/roles/{name}',
    summary: 'Read a role',
    tag: 'roles',
    auth: 'roles:manage',
    params: t.Object({ name: t.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
    responses: { 200: { description: 'The role', schema: roleSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, params }) => ({
      status: 200,
      body: await getRole(store(), principal.tenantId, params.name),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/roles/{name}',
    summary: "Replace a custom role's permissions (built-ins are read-only)",
    tag: 'roles',
    auth: 'roles:manage',
    params: t.Object({ name: t.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
    body: t.Object(
      {
        description: t.Optional(t.String({ maxLength: 500 })),
        permissions: t.Array(permission, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    responses: { 200: { description: 'Updated', schema: roleSchema }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params, body }) => ({
      status: 200,
      body: await updateRole(store(), { principal, meta }, params.name, body),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: '/roles/{name}',
    summary: 'Delete a custom role (refused while assigned)',
    tag: 'roles',
    auth: 'roles:manage',
    params: t.Object({ name: t.String({ minLength: 1, maxLength: 40 }) }, { additionalProperties: false }),
    responses: {
      204: { description: 'Deleted' },
      ...authErrors,
      ...notFound,
      409: { description: 'Still assigned' },
    },
    handler: async ({ principal, meta, params }) => {
      await deleteRole(store(), { principal, meta }, params.name);
      return { status: 204 };
    },
  }),
  // API keys
  defineRoute({
    method: 'GET',
    path: '/api-keys',
    summary: 'List API keys (never their secrets)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    query: pageQuery,
    responses: { 200: { description: 'Keys', schema: listOf(apiKeySchema) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listApiKeys(store(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: '/api-keys',
    summary: 'Create an API key; the key is shown once',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    body: t.Object(
      {
        name: trimmed(t.String({ minLength: 1, maxLength: 100 })),
        scopes: t.Array(permission, { minItems: 1, maxItems: 50 }),
        expiresAt: t.Optional(
          dateTimeString(
            {
              description: `When the key stops working; at most a year ahead. Default: ${DEFAULT_KEY_LIFETIME_DAYS} days from now`,
            },
            true,
          ),
        ),
      },
      { additionalProperties: false },
    ),
    responses: {
      201: { description: 'Created', schema: extend(apiKeySchema, { key: t.String() }), headers: created },
      ...authErrors,
    },
    handler: async ({ principal, meta, body }) => {
      const { view, key } = await createApiKey(store(), { principal, meta }, body);
      return { status: 201, body: { ...view, key }, headers: { location: `/api-keys/${view.keyId}` } };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api-keys/{keyId}',
    summary:
      'Revoke an API key; it stops working within the credential cache TTL (AUTH_CACHE_TTL_SECONDS, 30 s by default)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    params: t.Object({ keyId: idParam }, { additionalProperties: false }),
    responses: { 204: { description: 'Revoked' }, ...authErrors, ...notFound },
    handler: async ({ principal, meta, params }) => {
      await revokeApiKey(store(), { principal, meta }, params.keyId);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'POST',
    path: '/api-keys/{keyId}/rotate',
    summary: 'Issue a new secret; the old one stays valid for the grace period (default 24 h)',
    tag: 'api-keys',
    auth: 'apikeys:manage',
    params: t.Object({ keyId: idParam }, { additionalProperties: false }),
    body: t.Optional(
      t.Object(
        { gracePeriodSeconds: t.Optional(int({ minimum: 0, maximum: MAX_GRACE_SECONDS })) },
        { additionalProperties: false },
      ),
    ),
    responses: {
      200: { description: 'Rotated', schema: extend(apiKeySchema, { key: t.String() }) },
      ...authErrors,
      ...notFound,
    },
    handler: async ({ principal, meta, params, body }) => {
      const { view, key } = await rotateApiKey(
        store(),
        { principal, meta },
        params.keyId,
        body?.gracePeriodSeconds,
      );
      return { status: 200, body: { ...view, key } };
    },
  }),
];

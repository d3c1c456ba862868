import { auditArchive, digestSigner } from '#adapters/audit/wiring.ts';
import { s3For } from '#adapters/tenant-storage-clients.ts';
import { adapters } from '#adapters/wiring/api.ts';
import { type AuditTrailDeps, auditPublicKey, listAuditTrail, verifyAuditTrail } from '#core/audit/trail.ts';
import { deleteSecret, listSecrets, putSecret } from '#core/tenancy/secrets.ts';
import { auditDigests, config } from '#shared/config.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { dateTimeString, extend, t, withMessage } from '#shared/schema.ts';
import { authErrors, created, listOf, pageOf, pageQuery } from './schemas.ts';
import { auditPublicKeyView, auditRecordView, chainVerdictView } from './views.ts';

const secretName = withMessage(
  t.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
  'letters, digits, dot, dash and underscore, up to 128',
);
const secretMeta = t.Object({
  name: t.String(),
  description: t.Optional(t.String()),
  version: t.Number(),
  allowedRoles: t.Array(t.String()),
  createdAt: t.String(),
  updatedAt: t.String(),
});
const auditRecord = auditRecordView;

const secretDeps = () => ({ store: adapters().store, vault: adapters().vault });
const auditDeps = (): AuditTrailDeps => ({
  records: adapters().store,
  // Through the tenant's S3 client: its data role reads only `digests/tenant=<tenant>/`.
  digests: (tenantId) =>
    s3For(adapters().clients, tenantId).then((s3) => auditArchive(s3).listDigests(tenantId)),
  signer: digestSigner,
  tableRetentionMs: config([auditDigests]).AUDIT_TABLE_RETENTION_DAYS * 86_400_000,
});

/** Write-only secrets and the audit trail. */
export const secretAndAuditRoutes: Route[] = [
  defineRoute({
    method: 'GET',
    path: '/secrets',
    summary: 'List secret names and metadata (never values)',
    tag: 'secrets',
    auth: 'secrets:write',
    query: pageQuery,
    responses: { 200: { description: 'Secrets', schema: listOf(secretMeta) }, ...authErrors },
    handler: async ({ principal, query }) => ({
      status: 200,
      body: await listSecrets(secretDeps(), principal.tenantId, pageOf(query)),
    }),
  }),
  defineRoute({
    method: 'PUT',
    path: '/secrets/{name}',
    summary:
      'Create or replace a secret value (write-only). allowedRoles: whose holders (with secrets:use) may bind it to agents and tools; default ["admin"] on creation, kept on a rewrite',
    tag: 'secrets',
    auth: 'secrets:write',
    params: t.Object({ name: secretName }, { additionalProperties: false }),
    body: t.Object(
      {
        value: t.String({ minLength: 1, maxLength: 65_536 }),
        description: t.Optional(t.String({ maxLength: 500 })),
        allowedRoles: t.Optional(
          t.Array(t.String({ minLength: 1, maxLength: 40 }), { minItems: 1, maxItems: 20 }),
        ),
      },
      { additionalProperties: false },
    ),
    responses: {
      200: { description: 'Replaced', schema: secretMeta },
      201: { description: 'Created', schema: secretMeta, headers: created },
      ...authErrors,
    },
    handler: async ({ principal, meta, params, body }) => {
      const { meta: saved, created } = await putSecret(secretDeps(), { principal, meta }, params.name, body);
      return created
        ? { status: 201, body: saved, headers: { location: `/secrets/${saved.name}` } }
        : { status: 200, body: saved };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/secrets/{name}',
    summary: 'Delete a secret',
    tag: 'secrets',
    auth: 'secrets:write',
    params: t.Object({ name: secretName }, { additionalProperties: false }),
    responses: { 204: { description: 'Deleted' }, ...authErrors, 404: { description: 'No such secret' } },
    handler: async ({ principal, meta, params }) => {
      await deleteSecret(secretDeps(), { principal, meta }, params.name);
      return { status: 204 };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/audit',
    summary: 'The audit trail, newest first',
    tag: 'audit',
    auth: 'audit:read',
    query: extend(pageQuery, {
      actor: t.Optional(t.String({ maxLength: 128 })),
      action: t.Optional(t.String({ maxLength: 64 })),
      resource: t.Optional(t.String({ maxLength: 128 })),
      from: t.Optional(dateTimeString({}, true)),
      to: t.Optional(dateTimeString({}, true)),
    }),
    responses: { 200: { description: 'Records', schema: listOf(auditRecord) }, ...authErrors },
    handler: async ({ principal, query }) => {
      const { limit, cursor, ...filter } = query;
      return {
        status: 200,
        body: await listAuditTrail(
          auditDeps(),
          principal.tenantId,
          filter,
          pageOf({ limit, ...(cursor ? { cursor } : {}) }),
        ),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/audit/verify',
    summary:
      'Check the audit records against the signed digests in the archive, the digests against their signatures and each other; names the first divergence',
    tag: 'audit',
    auth: 'audit:read',
    responses: {
      200: {
        description: 'Verdict',
        schema: chainVerdictView,
      },
      ...authErrors,
    },
    handler: async ({ principal, meta }) => ({
      status: 200,
      body: await verifyAuditTrail(auditDeps(), principal.tenantId, new Date(meta.now)),
    }),
  }),
  defineRoute({
    method: 'GET',
    path: '/audit/public-key',
    summary: 'The public key that verifies audit digests (ECDSA P-256, SHA-256), for offline checks',
    tag: 'audit',
    auth: 'audit:read',
    responses: {
      200: {
        description: 'The key',
        schema: auditPublicKeyView,
      },
      ...authErrors,
    },
    handler: async () => ({ status: 200, body: await auditPublicKey(auditDeps()) }),
  }),
];

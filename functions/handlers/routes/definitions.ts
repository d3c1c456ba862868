import { adapters } from '#adapters/wiring/api.ts';
import type { Permission } from '#core/access/permissions.ts';
import {
  createDefinition,
  deleteDefinition,
  getDefinition,
  getDefinitionVersion,
  listDefinitions,
  listDefinitionVersions,
  updateDefinition,
} from '#core/versioning/definitions.ts';
import type { Head, Version } from '#core/versioning/model.ts';
import { defineRoute, type Route } from '#shared/router.ts';
import { extend, int, record, type TSchema, t } from '#shared/schema.ts';
import { authErrors, created, idParam, listOf, pageOf, pageQuery } from './schemas.ts';
import {
  agentDoc,
  agentVersionView,
  agentView,
  pageOfItems,
  toolDoc,
  toolVersionView,
  toolView,
} from './views.ts';

type CatalogKind = 'agent' | 'tool';

/** The API's view of a definition head: its id under `<kind>Id`, the latest version, the definition's fields. */
export function headView(kind: string, head: Head<unknown>): Record<string, unknown> {
  return {
    [`${kind}Id`]: head.id,
    version: head.latestVersion,
    ...(head.definition as Record<string, unknown>),
    ...(head.environments ? { environments: head.environments } : {}),
    createdAt: head.createdAt,
    updatedAt: head.updatedAt,
    createdBy: head.createdBy,
    updatedBy: head.updatedBy,
    ...(head.secretBindings ? { secretBindings: head.secretBindings } : {}),
  };
}

/** The API's view of one version. */
export function versionView(kind: string, version: Version<unknown>): Record<string, unknown> {
  return {
    [`${kind}Id`]: version.id,
    version: version.version,
    definition: version.definition,
    ...(version.pins ? { pins: version.pins } : {}),
    ...(version.asl ? { asl: JSON.parse(version.asl) as unknown } : {}),
    ...(version.rolledBackFrom ? { rolledBackFrom: version.rolledBackFrom } : {}),
    ...(version.secretBindings ? { secretBindings: version.secretBindings } : {}),
    createdAt: version.createdAt,
    createdBy: version.createdBy,
  };
}

/** A secret a version uses: the field naming it, the secret, and who bound it (saved that version). */
/** Version numbers in paths and bodies. */
export const versionNumber = int({ minimum: 1, maximum: 1_000_000 });

/** The body is any JSON object here; the core validates it and names every problem at once. */
export const jsonObject = record(t.Unknown());

const catalog = () => ({ definitions: adapters().definitions, tenancy: adapters().store });

function catalogRoutes(kind: CatalogKind, doc: TSchema): Route[] {
  const plural = `/${kind}s`;
  const a = `${kind === 'agent' ? 'an' : 'a'} ${kind}`;
  const idName = `${kind}Id` as const;
  const read = `${kind}s:read` as Permission;
  const write = `${kind}s:write` as Permission;
  const params = t.Object({ [idName]: idParam }, { additionalProperties: false });
  const idOf = (p: Record<string, string>) => p[idName] ?? '';
  const view = kind === 'agent' ? agentView : toolView;
  const versionSchema = kind === 'agent' ? agentVersionView : toolVersionView;
  const notFound = { 404: { description: `No such ${kind} in this tenant` } };
  return [
    defineRoute({
      method: 'GET',
      path: plural,
      summary: `List ${kind}s (latest versions)`,
      tag: `${kind}s`,
      auth: read,
      query: pageQuery,
      responses: { 200: { description: `${kind}s`, schema: listOf(view) }, ...authErrors },
      handler: async ({ principal, query }) => {
        const page = await listDefinitions(catalog(), principal.tenantId, kind, pageOf(query));
        return { status: 200, body: { ...page, items: page.items.map((h) => headView(kind, h)) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: plural,
      summary: `Create ${a} (version 1)`,
      tag: `${kind}s`,
      auth: write,
      body: jsonObject,
      bodyDoc: doc,
      responses: { 201: { description: 'Created', schema: view, headers: created }, ...authErrors },
      handler: async ({ principal, meta, body }) => {
        const head = await createDefinition(catalog(), { principal, meta }, kind, body);
        return { status: 201, body: headView(kind, head), headers: { location: `${plural}/${head.id}` } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${plural}/{${idName}}`,
      summary: `Read ${a} (latest version)`,
      tag: `${kind}s`,
      auth: read,
      params,
      responses: { 200: { description: `The ${kind}`, schema: view }, ...authErrors, ...notFound },
      handler: async ({ principal, params: p }) => ({
        status: 200,
        body: headView(kind, await getDefinition(catalog(), principal.tenantId, kind, idOf(p))),
      }),
    }),
    defineRoute({
      method: 'PUT',
      path: `${plural}/{${idName}}`,
      summary: `Replace ${a}: creates a new immutable version`,
      tag: `${kind}s`,
      auth: write,
      params,
      body: jsonObject,
      bodyDoc: doc,
      responses: { 200: { description: 'New version', schema: view }, ...authErrors, ...notFound },
      handler: async ({ principal, meta, params: p, body }) => ({
        status: 200,
        body: headView(kind, await updateDefinition(catalog(), { principal, meta }, kind, idOf(p), body)),
      }),
    }),
    defineRoute({
      method: 'DELETE',
      path: `${plural}/{${idName}}`,
      summary: `Delete ${a} (refused while a live workflow version uses it)`,
      tag: `${kind}s`,
      auth: write,
      params,
      responses: {
        204: { description: 'Deleted' },
        ...authErrors,
        ...notFound,
        409: { description: 'In use' },
      },
      handler: async ({ principal, meta, params: p }) => {
        await deleteDefinition(catalog(), { principal, meta }, kind, idOf(p));
        return { status: 204 };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${plural}/{${idName}}/versions`,
      summary: `List ${a}'s versions, newest first`,
      tag: `${kind}s`,
      auth: read,
      params,
      query: pageQuery,
      responses: {
        200: { description: 'Versions', schema: pageOfItems(versionSchema) },
        ...authErrors,
        ...notFound,
      },
      handler: async ({ principal, params: p, query }) => {
        const page = await listDefinitionVersions(
          catalog(),
          principal.tenantId,
          kind,
          idOf(p),
          pageOf(query),
        );
        return { status: 200, body: { ...page, items: page.items.map((v) => versionView(kind, v)) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: `${plural}/{${idName}}/versions/{version}`,
      summary: `Read one version of ${a}`,
      tag: `${kind}s`,
      auth: read,
      params: extend(params, { version: versionNumber }),
      responses: { 200: { description: 'The version', schema: versionSchema }, ...authErrors, ...notFound },
      handler: async ({ principal, params: p }) => ({
        status: 200,
        body: versionView(
          kind,
          await getDefinitionVersion(
            catalog(),
            principal.tenantId,
            kind,
            idOf(p as Record<string, string>),
            Number(p.version),
          ),
        ),
      }),
    }),
  ];
}

/** Agents and tools. */
export const definitionRoutes: Route[] = [
  ...catalogRoutes('agent', agentDoc),
  ...catalogRoutes('tool', toolDoc),
];

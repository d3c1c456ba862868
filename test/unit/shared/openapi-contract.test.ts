import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '#handlers/routes/index.ts';
import { buildOpenApi } from '#shared/openapi.ts';
import { defineRoute } from '#shared/router.ts';
import { lazy, named, type TSchema, t } from '#shared/schema.ts';

type Json = Record<string, unknown>;

/** Every `$ref` in a document. */
function refsOf(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsOf(n, out);
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

/** Resolves a local JSON pointer in a document. */
function resolve(doc: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>(
      (node, key) => (node && typeof node === 'object' ? (node as Json)[key] : undefined),
      doc,
    );
}

interface Tree {
  name: string;
  children: Tree[];
}
const tree: TSchema = named(
  t.Object(
    {
      name: t.String({ maxLength: 10 }),
      children: t.Array(
        lazy<Tree>(() => tree),
        { maxItems: 5 },
      ),
    },
    { additionalProperties: false },
  ),
  'Tree',
);

const route = defineRoute({
  method: 'POST',
  path: '/trees/{treeId}',
  summary: 'Plant a tree',
  tag: 'trees',
  auth: 'workflows:write',
  params: t.Object({ treeId: t.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false }),
  body: t.Object({ tree, note: t.String() }, { additionalProperties: false }),
  responses: {
    201: {
      description: 'Planted',
      schema: t.Object({ id: t.String(), tree }, { additionalProperties: false }),
      headers: { Location: { description: 'The tree' } },
    },
    404: { description: 'No such forest' },
  },
  handler: async () => ({ status: 201 }),
});
const publicRoute = defineRoute({
  method: 'GET',
  path: '/ping',
  summary: 'Ping',
  tag: 'trees',
  auth: 'public',
  responses: { 200: { description: 'Pong' } },
  handler: async () => ({ status: 200 }),
});

describe('buildOpenApi', () => {
  const doc = buildOpenApi([route, publicRoute], { title: 't', version: '1' }) as Json & {
    paths: Record<string, Record<string, Json & { responses: Record<string, Json> }>>;
    components: { schemas: Record<string, Json> };
  };
  const post = doc.paths['/trees/{treeId}']?.post;

  it('moves recursive schemas into components/schemas: every $ref resolves, none points to $defs', () => {
    // Act
    const refs = refsOf(doc);
    // Assess
    expect(refs.length).toBeGreaterThan(0);
    expect(
      refs.filter((r) => !r.startsWith('#/components/schemas/') && !r.startsWith('#/components/headers/')),
    ).toEqual([]);
    for (const ref of refs) expect(resolve(doc, ref), ref).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain('$defs');
  });

  it('declares the statuses every authenticated route with a body can answer, as problem+json', () => {
    // Assess
    expect(Object.keys(post?.responses ?? {})).toEqual([
      '201',
      '400',
      '401',
      '403',
      '404',
      '413',
      '415',
      '429',
      '500',
      '503',
    ]);
    expect(post?.responses['404']?.content).toEqual({
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    });
    expect(JSON.stringify(post?.responses['401']?.headers)).toContain('WWW-Authenticate');
    expect(JSON.stringify(post?.responses['429']?.headers)).toContain('Retry-After');
  });

  it('declares the rate limiter’s headers, as shared components, on a tenant route’s 2xx and 429 only', () => {
    // Assess
    const refs = {
      RateLimit: { $ref: '#/components/headers/RateLimit' },
      'RateLimit-Policy': { $ref: '#/components/headers/RateLimit-Policy' },
    };
    expect(post?.responses['201']?.headers).toMatchObject({ Location: expect.any(Object), ...refs });
    expect(post?.responses['429']?.headers).toMatchObject({ 'Retry-After': expect.any(Object), ...refs });
    for (const status of ['400', '401', '403', '404', '500', '503']) {
      expect(JSON.stringify(post?.responses[status]?.headers ?? {}), status).not.toContain('RateLimit');
    }
    for (const ref of Object.values(refs)) expect(resolve(doc, ref.$ref), ref.$ref).toBeDefined();
    // Public routes are never counted, so they promise no such headers.
    expect(JSON.stringify(doc.paths['/ping']?.get?.responses)).not.toContain('RateLimit');
  });

  it('a public route without input declares neither 400, 401, 403, 415 nor 503', () => {
    // Assess
    expect(Object.keys(doc.paths['/ping']?.get?.responses ?? {})).toEqual(['200', '413', '429', '500']);
  });

  it('keeps response schemas open and request schemas closed', () => {
    // Act
    const response = JSON.stringify(post?.responses['201']);
    const request = JSON.stringify(post?.requestBody);
    // Assess
    expect(response).not.toContain('"additionalProperties":false');
    expect(request).toContain('"additionalProperties":false');
    expect(post?.responses['201']?.headers).toHaveProperty('Location');
  });

  it('declares the body cap as the bound of request strings that have none, and keeps tighter ones', () => {
    // Act
    const body = JSON.stringify(post?.requestBody);
    // Assess
    expect(body).toContain('"note":{"type":"string","maxLength":262144}');
    expect(JSON.stringify(doc.components.schemas)).toContain('"maxLength":10');
  });

  it('names the route permission in the description and lists the tags', () => {
    // Assess
    expect(post?.description).toContain('workflows:write');
    expect(doc.tags).toEqual([{ name: 'trees', description: 'trees' }]);
    expect(doc.servers).toHaveLength(2);
  });
});

describe('the API document', () => {
  const doc = openApiDocument() as Json & {
    paths: Record<string, Record<string, Json & { summary: string; responses: Record<string, Json> }>>;
  };

  it('resolves every $ref', () => {
    // Act
    const refs = refsOf(doc);
    // Assess
    for (const ref of refs) expect(resolve(doc, ref), ref).toBeDefined();
  });

  it('promises RateLimit headers on the 2xx of every route a tenant caller may use, and of no other', () => {
    // Act
    const wrong = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) => {
        const counted = !['public', 'platform'].includes(String(op['x-meridian-permission']));
        return Object.entries(op.responses)
          .filter(([status]) => status.startsWith('2'))
          .filter(([, r]) => counted !== JSON.stringify(r.headers ?? {}).includes('RateLimit-Policy'))
          .map(([status]) => `${method.toUpperCase()} ${path} ${status}`);
      }),
    );
    // Assess
    expect(wrong).toEqual([]);
    expect(JSON.stringify(doc.paths['/executions/{executionId}/redrive']?.post?.responses['202'])).toContain(
      '#/components/headers/RateLimit',
    );
  });

  it('gives every 2xx that returns a body its schema', () => {
    // Act
    const missing = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops).flatMap(([method, op]) =>
        Object.entries(op.responses)
          .filter(([status, r]) => status.startsWith('2') && status !== '204' && r.content === undefined)
          .map(([status]) => `${method.toUpperCase()} ${path} ${status}`),
      ),
    );
    // Assess
    expect(missing).toEqual([]);
  });

  it('writes summaries with the right article', () => {
    // Act
    const summaries = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.summary));
    // Assess
    expect(summaries).toContain('Create an agent (version 1)');
    expect(summaries.filter((s) => /\ba [aeio]/i.test(s))).toEqual([]);
  });

  it('says revocation takes up to the credential cache TTL, and that an API key expiry has a default', () => {
    // Act
    const revoke = doc.paths['/api-keys/{keyId}']?.delete?.summary;
    const create = JSON.stringify(doc.paths['/api-keys']?.post?.requestBody);
    // Assess
    expect(revoke).toContain('AUTH_CACHE_TTL_SECONDS');
    expect(revoke).not.toContain('at once');
    expect(create).toContain('Default: 90 days');
    expect(create).not.toContain('"required":["name","scopes","expiresAt"]');
  });

  it('publishes the promotion answers as {status, approval} and {status, workflow}', () => {
    // Act
    const responses = doc.paths['/workflows/{workflowId}/promotions']?.post?.responses ?? {};
    // Assess
    expect(JSON.stringify(responses['202'])).toContain('PromotionPending');
    expect(JSON.stringify(responses['200'])).toContain('PromotionApplied');
  });
});

describe('cross-field rules in the published schemas', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema(openApiDocument(), 'openapi.json');
  const agent = ajv.compile({ $ref: 'openapi.json#/components/schemas/Agent' });
  const condition = ajv.compile({ $ref: 'openapi.json#/components/schemas/Condition' });
  const base = { name: 'a', model: 'm' };

  it.each([
    ['a scripted agent with its script', { ...base, provider: 'scripted', script: [{ reply: 'x' }] }, true],
    ['a scripted agent without a script', { ...base, provider: 'scripted' }, false],
    [
      'a scripted agent with a baseUrl',
      { ...base, provider: 'scripted', script: [{ reply: 'x' }], baseUrl: 'https://x' },
      false,
    ],
    [
      'an openai agent with baseUrl and apiKeySecret',
      { ...base, provider: 'openai', baseUrl: 'https://x', apiKeySecret: 'k' },
      true,
    ],
    ['an openai agent with a script', { ...base, provider: 'openai', script: [{ reply: 'x' }] }, false],
    ['a bedrock agent with an apiKeySecret', { ...base, provider: 'bedrock', apiKeySecret: 'k' }, false],
    ['a bedrock agent', { ...base, provider: 'bedrock' }, true],
  ])('the Agent schema says %s is %s', (_name, value, valid) => {
    // Assess
    expect(agent(value)).toBe(valid);
  });

  it.each([
    ['one comparison', { path: 'input.x', equals: 1 }, true],
    [
      'nested and/or/not',
      { and: [{ not: { path: 'a', exists: true } }, { or: [{ path: 'b', contains: 'z' }] }] },
      true,
    ],
    ['two operators', { path: 'input.x', equals: 1, lessThan: 2 }, false],
    ['no operator', { path: 'input.x' }, false],
    ['an empty and', { and: [] }, false],
    ['contains with a number', { path: 'input.x', contains: 3 }, false],
  ])('the Condition schema says %s is %s', (_name, value, valid) => {
    // Assess
    expect(condition(value)).toBe(valid);
  });
});

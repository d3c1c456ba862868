import { z } from 'zod';
import { PROBLEM_BASE } from './http.ts';
import { JSON_LIMITS } from './json-limits.ts';
import type { Route } from './router.ts';

type JsonObject = Record<string, unknown>;

function schemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonObject;
  delete out.$schema;
  return out;
}

const problemSchema: JsonObject = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'requestId'],
  properties: {
    type: { type: 'string', format: 'uri', description: `${PROBLEM_BASE}<code>` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      items: {
        type: 'object',
        required: ['path', 'message'],
        properties: { path: { type: 'string' }, message: { type: 'string' } },
      },
    },
    requestId: { type: 'string' },
  },
};

function parametersOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonObject[] {
  if (!schema) return [];
  const json = schemaOf(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonObject>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: s,
  }));
}

const LIMITS_TEXT =
  `Every JSON body: at most ${JSON_LIMITS.maxBodyBytes} bytes (413 beyond), nested at most ` +
  `${JSON_LIMITS.maxDepth} levels, numbers within ±${JSON_LIMITS.maxAbsNumber} and, when not zero, ` +
  `at least ${JSON_LIMITS.minAbsNumber} in size, property names 1 to ${JSON_LIMITS.maxPropertyNameLength} ` +
  `characters, emails at most ${JSON_LIMITS.maxEmailLength}; otherwise 400 naming the field.`;

/**
 * Generates the OpenAPI 3.1 document from the same route declarations and zod schemas that validate
 * requests, so the published contract cannot drift from what the API enforces.
 */
export function buildOpenApi(routes: readonly Route[], info: { title: string; version: string }): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const route of routes) {
    const operation: JsonObject = {
      operationId: `${route.method.toLowerCase()}${route.path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      summary: route.summary,
      tags: [route.tag],
      security: route.auth === 'public' ? [] : [{ bearer: [] }, { apiKey: [] }],
      'x-meridian-permission': route.auth,
      parameters: [
        ...parametersOf(route.params, 'path'),
        ...parametersOf(route.query, 'query'),
        ...(route.headers ?? []).map((h) => ({
          name: h.name,
          in: 'header',
          required: h.required,
          description: h.description,
          schema: { type: 'string' },
        })),
      ],
      responses: Object.fromEntries(
        Object.entries(route.responses).map(([status, r]) => [
          status,
          {
            description: r.description,
            ...(r.schema
              ? { content: { 'application/json': { schema: schemaOf(r.schema, 'output') } } }
              : Number(status) >= 400
                ? {
                    content: {
                      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
                    },
                  }
                : {}),
          },
        ]),
      ),
    };
    const body = route.bodyDoc ?? route.body;
    if (body) {
      operation.requestBody = {
        required: true,
        description: LIMITS_TEXT,
        content: { 'application/json': { schema: schemaOf(body, 'input') } },
        'x-meridian-limits': JSON_LIMITS,
      };
    }
    paths[route.path] ??= {};
    const entry = paths[route.path];
    if (entry) entry[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info,
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    'x-meridian-request-limits': JSON_LIMITS,
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'Cognito access token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}

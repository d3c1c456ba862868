import { PERMISSIONS } from '#core/access/permissions.ts';
import { agentSchema } from '#core/catalog/model.ts';
import { PROVIDER_FIELDS, PROVIDER_TRAITS } from '#core/catalog/providers.ts';
import { conditionSchema, MAX_CONDITION_DEPTH, stepGraphSchema, stepSchema } from '#core/workflows/model.ts';
import { JSON_LIMITS } from '#shared/json-limits.ts';
import {
  defaulted,
  documented,
  emailString,
  int,
  meta,
  oneOf,
  type TSchema,
  t,
  withMessage,
} from '#shared/schema.ts';

/** `?limit=&cursor=` of every list. */
export const pageQuery = t.Object(
  {
    limit: defaulted(int({ minimum: 1, maximum: 100 }), 25),
    cursor: t.Optional(t.String({ minLength: 1, maxLength: 4096 })),
  },
  { additionalProperties: false },
);

/** A list response. */
export const listOf = <T extends TSchema>(item: T) =>
  t.Object({ items: t.Array(item), nextCursor: t.Optional(t.String()) });

/** An opaque id in a path. */
export const idParam = withMessage(
  t.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
  'not a valid id',
);

/** An email address; bounded because it becomes part of a DynamoDB key (at most 1 KB there). */
export const email = emailString({ maxLength: JSON_LIMITS.maxEmailLength });

/** One of the contract's permissions. */
export const permission = oneOf(PERMISSIONS);

/** Standard error responses every authenticated route documents. */
export const authErrors = {
  400: { description: 'Invalid request (problem+json naming the fields)' },
  401: { description: 'Missing or invalid credential' },
  403: { description: 'Missing permission, or the tenant is suspended' },
} as const;

/** The `Location` header of a 201 (or of a 202 that has something to poll). */
export const created = {
  Location: { description: 'Where the created resource (or the thing to poll) lives' },
} as const;

/** The header a replayed idempotent request carries. */
export const replayed = {
  'Idempotent-Replayed': {
    description: '`true` when this answer replays an earlier request with the same key',
    schema: { type: 'string', enum: ['true'] },
  },
} as const;

/** A page request from the parsed query. */
export function pageOf(query: { limit: number; cursor?: string | undefined }) {
  return { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}) };
}

// Recursive and shared definitions get names in the OpenAPI document (components/schemas).
meta(stepSchema, { id: 'WorkflowStep', description: 'One step of a workflow, by `type`' });
meta(stepGraphSchema, { id: 'StepGraph', description: 'A step graph: `{startAt, steps}`' });

// Rules the core checks by hand (functions/core/workflows/model.ts, functions/core/catalog/model.ts),
// written out as JSON Schema so that clients and generators see them too.
const conditionRef = { $ref: '#/components/schemas/Condition' };
const scalar = { type: ['string', 'number', 'boolean', 'null'] };
meta(conditionSchema, {
  id: 'Condition',
  description: `A choice condition: one comparison on a path, or and/or/not of conditions (at most ${MAX_CONDITION_DEPTH} levels deep)`,
});
documented(conditionSchema, {
  oneOf: [
    ...(['and', 'or'] as const).map((combinator) => ({
      type: 'object',
      required: [combinator],
      additionalProperties: false,
      properties: { [combinator]: { type: 'array', minItems: 1, maxItems: 100, items: conditionRef } },
    })),
    { type: 'object', required: ['not'], additionalProperties: false, properties: { not: conditionRef } },
    ...(
      [
        ['equals', scalar],
        ['notEquals', scalar],
        ['greaterThan', { type: ['number', 'string'] }],
        ['lessThan', { type: ['number', 'string'] }],
        ['contains', { type: 'string', minLength: 1 }],
        ['exists', { type: 'boolean' }],
      ] as const
    ).map(([operator, operand]) => ({
      type: 'object',
      required: ['path', operator],
      additionalProperties: false,
      properties: { path: { type: 'string' }, [operator]: operand },
    })),
  ],
});

// The provider decides which fields an agent takes (PROVIDER_TRAITS): one `oneOf` entry per provider,
// in the table's order, requiring its required fields and refusing the fields it does not take.
const absent = (fields: readonly string[]) => ({ not: { anyOf: fields.map((f) => ({ required: [f] })) } });
const providerFieldList = `${PROVIDER_FIELDS.slice(0, -1).join(', ')} and ${PROVIDER_FIELDS.at(-1)}`;
meta(agentSchema, {
  id: 'Agent',
  description: `An agent definition; \`provider\` decides which of ${providerFieldList} it takes`,
});
documented(agentSchema, {
  oneOf: Object.entries(PROVIDER_TRAITS).map(([provider, { fields }]) => {
    const required = PROVIDER_FIELDS.filter((f) => fields[f] === 'required');
    const refused = PROVIDER_FIELDS.filter((f) => fields[f] === undefined);
    return {
      properties: { provider: { const: provider } },
      ...(required.length > 0 ? { required } : {}),
      ...(refused.length > 0 ? absent(refused) : {}),
    };
  }),
});

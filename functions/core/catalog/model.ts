/**
 * Agent and Tool definitions (docs/api.md, "Definitions"): schemas that reject unknown fields, the
 * types they produce, and validators that report every problem at once, each named by its path.
 * Pure and synchronous: whatever needs storage (does this tool exist?) arrives already resolved.
 */

import {
  check,
  checked,
  defaulted,
  discriminated,
  int,
  lazy,
  named,
  oneOf,
  record,
  type Static,
  type TSchema,
  t,
  trimmed,
  withMessage,
} from '#shared/schema.ts';
import { type FieldProblem, ValidationError } from '../errors.ts';
import { parseDataPath, scanTemplates } from '../workflows/templates.ts';
import { jsonSchemaProblems } from './json-schema.ts';
import { DEFINITION, isRecord, joinPath, jsonShapeProblems, ProblemList } from './problems.ts';
import { AGENT_PROVIDERS, PROVIDER_FIELDS, providersTaking, providerTraits } from './providers.ts';
import { regexProblem } from './tenant-regex.ts';

/** The platform's own tools a `builtin` tool can name. */
export const BUILTIN_TOOLS = ['echo', 'current_time', 'json_extract', 'uuid', 'sum'] as const;
/** One of {@link BUILTIN_TOOLS}. */
export type BuiltinToolName = (typeof BUILTIN_TOOLS)[number];

/** HTTP methods an http tool can use. */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Default and bounds of agent and tool numbers. */
export const CATALOG_LIMITS = Object.freeze({
  maxToolCallsDefault: 8,
  maxToolCalls: 50,
  maxTokens: 200_000,
  maxAgentTools: 32,
  maxScriptRules: 100,
  httpTimeoutMsDefault: 10_000,
  httpTimeoutMsMin: 100,
  httpTimeoutMsMax: 30_000,
  maxHeaders: 32,
  /** Any JSON nesting in a definition (args, schemas); checked before parsing. */
  maxJsonDepth: 64,
});

// Refuses hostile shapes (deep nesting, reserved keys) before the recursive validation sees them.
function checkShape(input: unknown, what: string): void {
  const problems = jsonShapeProblems(input, CATALOG_LIMITS.maxJsonDepth);
  if (problems.length > 0)
    throw new ValidationError(`Invalid ${what}: ${problems.length} problem(s)`, problems);
}

/** Ids of agents and tools as the API hands them out (opaque). */
export const resourceIdSchema = withMessage(
  t.String({ pattern: '^[A-Za-z0-9_-]{1,128}$' }),
  'not a valid id (letters, digits, _ and -, up to 128)',
);

/** A secret's name, as `PUT /secrets/{name}` accepts it. */
export const secretNameSchema = withMessage(
  t.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
  'not a valid secret name (letters, digits, dot, dash and underscore, up to 128)',
);

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

const nameSchema = () => trimmed(t.String({ minLength: 1, maxLength: 128 }));
const descriptionSchema = t.String({ maxLength: 2000 });

/** Any JSON value (published as the recursive `JsonValue`). */
export const jsonValueSchema: TSchema = named(
  t.Union([
    t.String(),
    t.Number(),
    t.Boolean(),
    t.Null(),
    t.Array(lazy<JsonValue>(() => jsonValueSchema)),
    record(lazy<JsonValue>(() => jsonValueSchema)),
  ]),
  'JsonValue',
);
const jsonObjectSchema = record(lazy<JsonValue>(() => jsonValueSchema));

const matchSchema = checked(t.String(), (source) => {
  const problem = typeof source === 'string' ? regexProblem(source) : undefined;
  return problem ? [{ path: [], message: problem }] : [];
});

/** One rule of a scripted agent: the first whose `match` matches the prompt answers. */
export const scriptRuleSchema = t.Object(
  {
    /** A regular expression (ECMAScript syntax, Unicode mode, matched in linear time) tested against the prompt; absent matches always. */
    match: t.Optional(matchSchema),
    reply: t.String({ maxLength: 100_000 }),
    toolCalls: t.Optional(
      t.Array(
        t.Object({ toolId: resourceIdSchema, args: jsonObjectSchema }, { additionalProperties: false }),
        {
          maxItems: 16,
        },
      ),
    ),
    usage: t.Optional(
      t.Object(
        {
          inputTokens: int({ minimum: 0, maximum: 100_000_000 }),
          outputTokens: int({ minimum: 0, maximum: 100_000_000 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

/** An agent: a model with a system prompt, tools and limits. */
export const agentSchema = t.Object(
  {
    name: nameSchema(),
    description: t.Optional(descriptionSchema),
    provider: oneOf(AGENT_PROVIDERS),
    model: t.String({ minLength: 1, maxLength: 256 }),
    systemPrompt: t.Optional(t.String({ maxLength: 100_000 })),
    tools: t.Optional(t.Array(resourceIdSchema, { maxItems: CATALOG_LIMITS.maxAgentTools })),
    temperature: t.Optional(t.Number({ minimum: 0, maximum: 2 })),
    maxTokens: t.Optional(int({ minimum: 1, maximum: CATALOG_LIMITS.maxTokens })),
    maxToolCalls: defaulted(
      int({ minimum: 0, maximum: CATALOG_LIMITS.maxToolCalls }),
      CATALOG_LIMITS.maxToolCallsDefault,
    ),
    /**
     * OpenAI-compatible endpoint, https (or http); no query or fragment, so the tenant cannot choose the
     * request path. Private, loopback and metadata destinations and plain http are refused at run time
     * unless a platform admin allowlisted them for the tenant (the same guard as HTTP tools).
     */
    baseUrl: t.Optional(t.String({ maxLength: 2048 })),
    /** Name of the tenant secret holding the API key (openai). */
    apiKeySecret: t.Optional(secretNameSchema),
    script: t.Optional(t.Array(scriptRuleSchema, { minItems: 1, maxItems: CATALOG_LIMITS.maxScriptRules })),
  },
  { additionalProperties: false },
);

/** A validated agent definition (defaults applied). */
export type AgentDefinition = Static<typeof agentSchema>;

const toolBase = () => ({
  name: nameSchema(),
  description: t.Optional(descriptionSchema),
  /** JSON Schema (2020-12) of the tool's `args`; must describe an object. */
  inputSchema: jsonObjectSchema,
});

/** A tool that calls an HTTP endpoint. `url` and header values may hold `{{args.x}}` templates. */
export const httpToolSchema = t.Object(
  {
    ...toolBase(),
    type: t.Literal('http'),
    method: oneOf(HTTP_METHODS),
    url: t.String({ minLength: 1, maxLength: 2048 }),
    headers: t.Optional(
      record(t.String({ maxLength: 4096 }), {
        propertyNames: withMessage(
          t.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$" }),
          'not a valid header name',
        ),
      }),
    ),
    /** Secret sent as `Authorization: Bearer <value>` by the runner. */
    authSecret: t.Optional(secretNameSchema),
    timeoutMs: defaulted(
      int({ minimum: CATALOG_LIMITS.httpTimeoutMsMin, maximum: CATALOG_LIMITS.httpTimeoutMsMax }),
      CATALOG_LIMITS.httpTimeoutMsDefault,
    ),
    /**
     * Removed: private-network egress is a per-tenant allowlist that only a platform admin sets
     * (functions/core/net/egress.ts). `false` is accepted and dropped so saved bodies still load;
     * `true` is refused.
     */
    allowPrivateNetwork: t.Optional(t.Boolean()),
  },
  { additionalProperties: false },
);

/** A tool implemented by the platform itself. */
export const builtinToolSchema = t.Object(
  { ...toolBase(), type: t.Literal('builtin'), builtin: oneOf(BUILTIN_TOOLS) },
  { additionalProperties: false },
);

/** A tool definition, either kind. */
export const toolSchema = discriminated('type', [httpToolSchema, builtinToolSchema]);

/** A validated http tool (defaults applied). */
export type HttpToolDefinition = Omit<Static<typeof httpToolSchema>, 'allowPrivateNetwork'>;
/** A validated builtin tool. */
export type BuiltinToolDefinition = Static<typeof builtinToolSchema>;
/** A validated tool definition. */
export type ToolDefinition = HttpToolDefinition | BuiltinToolDefinition;

/** What agent validation needs to know about the outside world, already resolved by the caller. */
export interface AgentValidationContext {
  /** Whether a tool with this id exists in the caller's tenant. */
  toolExists(id: string): boolean;
}

/**
 * Validates an agent definition. Returns it parsed (defaults applied) or throws `ValidationError`
 * naming every problem: schema errors, provider fields (`script`, `baseUrl`, `apiKeySecret`) the
 * provider does not take or requires (providers.ts), unknown or repeated tool ids, script tool
 * calls to tools the agent does not list, patterns the linear-time engine refuses.
 */
export function validateAgent(input: unknown, ctx: AgentValidationContext): AgentDefinition {
  checkShape(input, 'agent');
  const problems = new ProblemList();
  const parsed = check(agentSchema, input, DEFINITION);
  if (!parsed.ok) problems.addAll(parsed.problems);
  if (isRecord(input)) {
    // Cross-field rules read the raw input so they are reported even when other fields fail.
    // An unknown provider takes none of the provider fields (the schema reports the provider).
    const fields = providerTraits(input.provider)?.fields ?? {};
    for (const field of PROVIDER_FIELDS) {
      const present = input[field] !== undefined;
      if (!present && fields[field] === 'required') {
        problems.add(field, `required when provider is "${String(input.provider)}"`);
      }
      if (present && fields[field] === undefined) {
        problems.add(field, `only allowed when provider is ${providersTaking(field)}`);
      }
    }
    if (typeof input.baseUrl === 'string') {
      const message = baseUrlProblem(input.baseUrl);
      if (message) problems.add('baseUrl', message);
    }
    const listed = new Set<string>();
    if (Array.isArray(input.tools)) {
      input.tools.forEach((id, i) => {
        if (typeof id !== 'string') return;
        if (listed.has(id)) problems.add(`tools.${i}`, `tool ${id} is listed twice`);
        else if (!ctx.toolExists(id)) problems.add(`tools.${i}`, `unknown tool ${id}`);
        listed.add(id);
      });
    }
    if (Array.isArray(input.script)) {
      input.script.forEach((rule, i) => {
        if (!isRecord(rule) || !Array.isArray(rule.toolCalls)) return;
        rule.toolCalls.forEach((call, j) => {
          if (isRecord(call) && typeof call.toolId === 'string' && !listed.has(call.toolId)) {
            problems.add(
              `script.${i}.toolCalls.${j}.toolId`,
              `tool ${call.toolId} is not in this agent's tools`,
            );
          }
        });
      });
    }
  }
  if (problems.size > 0 || !parsed.ok) {
    throw new ValidationError(`Invalid agent: ${problems.size} problem(s)`, problems.items);
  }
  return parsed.value;
}

/**
 * Validates a tool definition. Returns it parsed (defaults applied) or throws `ValidationError`
 * naming every problem: schema errors, a bad `inputSchema`, a `url` that does not parse once its
 * templates are filled, has no host, puts a template in its scheme or host, is neither https nor
 * http, carries credentials, `allowPrivateNetwork: true` (removed), and templates that read anything
 * but `args`. Where the URL may go (private addresses, plain http) is decided at run time against the
 * tenant's platform allowlist, which can change after the save.
 */
export function validateTool(input: unknown): ToolDefinition {
  checkShape(input, 'tool');
  const problems = new ProblemList();
  const parsed = check(toolSchema, input, DEFINITION);
  if (!parsed.ok) problems.addAll(parsed.problems);
  if (isRecord(input)) {
    if (input.inputSchema !== undefined)
      problems.addAll(jsonSchemaProblems(input.inputSchema, 'inputSchema'));
    if (input.type === 'http') {
      if (input.allowPrivateNetwork === true) {
        problems.add(
          'allowPrivateNetwork',
          'removed: private-network egress is allowlisted per tenant by a platform admin',
        );
      }
      if (typeof input.url === 'string') problems.addAll(toolUrlProblems(input.url));
      if (isRecord(input.headers)) {
        for (const [name, value] of Object.entries(input.headers)) {
          if (typeof value === 'string')
            problems.addAll(argTemplateProblems(value, joinPath('headers', name)));
        }
      }
    }
  }
  if (problems.size > 0 || !parsed.ok) {
    throw new ValidationError(`Invalid tool: ${problems.size} problem(s)`, problems.items);
  }
  if (parsed.value.type === 'http') {
    const { allowPrivateNetwork: _removed, ...tool } = parsed.value;
    return tool;
  }
  return parsed.value;
}

// Templates in tool fields may only read the call's arguments.
function argTemplateProblems(text: string, path: string): FieldProblem[] {
  const { matches, error } = scanTemplates(text, 100);
  const out: FieldProblem[] = [];
  if (error) out.push({ path, message: error });
  for (const match of matches) {
    const parsed = parseDataPath(match.expression, ['args']);
    if (!parsed.ok) out.push({ path, message: `template {{${match.expression}}}: ${parsed.message}` });
  }
  return out;
}

const TEMPLATE_MARK = 'meridiantemplatearg';

/** Problems with an http tool's URL template (all named `url`). */
export function toolUrlProblems(url: string): FieldProblem[] {
  const out = argTemplateProblems(url, 'url');
  if (out.length > 0) return out;
  // Fill templates with a marker so the URL parses as it will at run time, and so a template that
  // lands in the scheme or host (which would let arguments choose the server) can be spotted.
  let filled = '';
  let from = 0;
  for (const match of scanTemplates(url).matches) {
    filled += url.slice(from, match.offset) + TEMPLATE_MARK;
    from = url.indexOf('}}', match.offset) + 2;
  }
  filled += url.slice(from);
  let parsed: URL;
  try {
    parsed = new URL(filled);
  } catch {
    return [{ path: 'url', message: 'not a valid absolute URL once its templates are filled' }];
  }
  const problems: FieldProblem[] = [];
  if (parsed.protocol.includes(TEMPLATE_MARK) || parsed.host.includes(TEMPLATE_MARK)) {
    problems.push({ path: 'url', message: 'templates are not allowed in the scheme or host' });
  }
  if (parsed.hostname === '') problems.push({ path: 'url', message: 'must have a host' });
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    problems.push({ path: 'url', message: 'must be https (or http to a host a platform admin allowlisted)' });
  }
  if (parsed.username !== '' || parsed.password !== '') {
    problems.push({ path: 'url', message: 'must not carry credentials: use authSecret' });
  }
  return problems;
}

function baseUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid absolute URL';
  }
  if (parsed.hostname === '') return 'must have a host';
  if (parsed.username !== '' || parsed.password !== '') return 'must not carry credentials: use apiKeySecret';
  // The runner appends /chat/completions: a query or fragment would let the tenant move that path.
  if (url.includes('?') || url.includes('#')) return 'must not contain "?" or "#"';
  if (parsed.protocol === 'https:' || parsed.protocol === 'http:') return undefined;
  return 'must be https (or http to a host a platform admin allowlisted)';
}

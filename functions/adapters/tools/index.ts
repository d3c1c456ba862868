import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { ToolDefinition } from '#core/catalog/model.ts';
import { linearRegExpEngine, RegexBudgetExceeded, withRegexBudget } from '#core/catalog/tenant-regex.ts';
import { type ToolContext, ToolError, type ToolRunner } from '#core/executions/model-port.ts';
import { decodePointer } from '#shared/json-pointer.ts';
import { type BuiltinDeps, type BuiltinTool, builtinTools } from './builtin.ts';
import { HttpToolRunner } from './http.ts';

export { forbiddenAddressClass } from '#core/net/address-guard.ts';
export { builtinTools } from './builtin.ts';
export { HttpToolRunner } from './http.ts';

/** Time the `inputSchema` patterns of one tool call may take (they are tenant-supplied). */
export const ARGS_REGEX_BUDGET_MS = 1000;

/** Most compiled argument schemas kept per container. */
export const MAX_COMPILED_SCHEMAS = 500;

/**
 * Validates tool args against the tool's `inputSchema` (JSON Schema 2020-12), compiling each
 * distinct schema once and keeping at most {@link MAX_COMPILED_SCHEMAS} (least recently used go).
 * Ajv is loaded on the first call, so steps that call no tool never load it.
 */
export class ArgsValidator {
  private ajv: Promise<Ajv2020> | undefined;
  private readonly compiled = new Map<string, { schema: object; validate: ValidateFunction }>();

  private compiler(): Promise<Ajv2020> {
    this.ajv ??= import('ajv/dist/2020.js').then(
      ({ Ajv2020 }) =>
        new Ajv2020({
          // Tenants' schemas may carry annotations Ajv does not know (x-*, examples): tolerate them.
          strict: false,
          // No format plugin is bundled: formats are annotations here, as the catalog validator treats them.
          validateFormats: false,
          allErrors: true,
          addUsedSchema: false,
          // Tenant patterns run in linear time, see functions/core/catalog/tenant-regex.ts.
          code: { regExp: linearRegExpEngine },
        }),
      (error: unknown) => {
        this.ajv = undefined; // the next call tries again, not the same failure for the container's life
        throw error;
      },
    );
    return this.ajv;
  }

  /** Throws `Tool.Failed` naming every invalid argument. */
  async check(tool: ToolDefinition, args: Record<string, unknown>): Promise<void> {
    const validate = this.compile(tool, await this.compiler());
    let valid: boolean;
    try {
      valid = withRegexBudget(ARGS_REGEX_BUDGET_MS, () => validate(args) as boolean);
    } catch (error) {
      if (error instanceof RegexBudgetExceeded)
        throw new ToolError('failed', `args for tool "${tool.name}": ${error.message}`);
      throw error;
    }
    if (valid) return;
    const problems = (validate.errors ?? []).slice(0, 10).map(describeError);
    throw new ToolError('failed', `invalid args for tool "${tool.name}": ${problems.join('; ')}`);
  }

  private compile(tool: ToolDefinition, ajv: Ajv2020): ValidateFunction {
    const key = JSON.stringify(tool.inputSchema);
    const hit = this.compiled.get(key);
    if (hit) {
      // Re-insert: Map order is the recency order used for eviction.
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit.validate;
    }
    // A private copy: Ajv caches by object identity and the definition object is not ours to keep.
    const schema: object = structuredClone(tool.inputSchema);
    let validate: ValidateFunction;
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      const message = error instanceof Error ? error.message.slice(0, 300) : 'does not compile';
      throw new ToolError(
        'failed',
        `tool "${tool.name}" has an inputSchema that does not compile: ${message}`,
      );
    }
    this.compiled.set(key, { schema, validate });
    if (this.compiled.size > MAX_COMPILED_SCHEMAS) {
      const [oldestKey, oldest] = this.compiled.entries().next().value ?? [];
      if (oldestKey !== undefined && oldest) {
        this.compiled.delete(oldestKey);
        ajv.removeSchema(oldest.schema);
      }
    }
    return validate;
  }
}

// "args.city must be string", "args must have required property 'units'": paths, never values.
function describeError(error: ErrorObject): string {
  const path = decodePointer(error.instancePath)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  return `args${path} ${error.message ?? 'is invalid'}`;
}

/** What {@link DispatchingToolRunner} uses; each defaults to the real one. */
export interface ToolRunnerDeps {
  readonly http?: HttpToolRunner;
  readonly builtins?: BuiltinDeps;
  readonly validator?: ArgsValidator;
}

/**
 * The {@link ToolRunner}: validates args against the tool's `inputSchema`, then runs an `http` tool
 * with {@link HttpToolRunner} or a `builtin` one from {@link builtinTools}. Every failure is a
 * {@link ToolError}, so Step Functions sees a `Tool.*` name.
 */
export class DispatchingToolRunner implements ToolRunner {
  private readonly http: HttpToolRunner;
  private readonly builtins: Readonly<Record<string, BuiltinTool>>;
  private readonly validator: ArgsValidator;

  constructor(deps: ToolRunnerDeps = {}) {
    this.http = deps.http ?? new HttpToolRunner();
    this.builtins = builtinTools(deps.builtins);
    this.validator = deps.validator ?? new ArgsValidator();
  }

  async run(tool: ToolDefinition, args: Record<string, unknown>, ctx: ToolContext): Promise<unknown> {
    await this.validator.check(tool, args);
    try {
      if (tool.type === 'http') return await this.http.run(tool, args, ctx);
      const builtin = this.builtins[tool.builtin];
      if (!builtin) throw new ToolError('failed', `unknown builtin tool "${tool.builtin}"`);
      return builtin(args);
    } catch (error) {
      if (error instanceof ToolError) throw error;
      throw new ToolError(
        'failed',
        `tool "${tool.name}" failed: ${error instanceof Error ? error.message.slice(0, 300) : 'unknown error'}`,
      );
    }
  }
}

let shared: DispatchingToolRunner | undefined;

/** The container's tool runner (compiled schemas are kept across invocations). */
export function toolRunner(): ToolRunner {
  shared ??= new DispatchingToolRunner();
  return shared;
}

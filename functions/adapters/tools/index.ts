import { MAX_SCHEMA_PATTERNS } from '#core/catalog/json-schema.ts';
import type { ToolDefinition } from '#core/catalog/model.ts';
import { RegexBudgetExceeded, tenantRegex, withRegexBudget } from '#core/catalog/tenant-regex.ts';
import { type ToolContext, ToolError, type ToolRunner } from '#core/executions/model-port.ts';
import { decodePointer } from '#shared/json-pointer.ts';
import {
  compileSchema,
  SchemaCompileError,
  type SchemaError,
  type Validate,
} from '#shared/json-schema-validator.ts';
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
 * Formats are annotations, as the catalog validator treats them; patterns run in linear time
 * (functions/core/catalog/tenant-regex.ts).
 */
export class ArgsValidator {
  private readonly compiled = new Map<string, Validate>();

  /** Throws `Tool.Failed` naming every invalid argument. */
  async check(tool: ToolDefinition, args: Record<string, unknown>): Promise<void> {
    const validate = this.compile(tool);
    let valid: boolean;
    try {
      valid = withRegexBudget(ARGS_REGEX_BUDGET_MS, () => validate(args));
    } catch (error) {
      if (error instanceof RegexBudgetExceeded)
        throw new ToolError('failed', `args for tool "${tool.name}": ${error.message}`);
      if (error instanceof SchemaCompileError) {
        throw new ToolError(
          'failed',
          `tool "${tool.name}" has an inputSchema that cannot be applied: ${error.message}`,
        );
      }
      throw error;
    }
    if (valid) return;
    const problems = (validate.errors ?? []).slice(0, 10).map(describeError);
    throw new ToolError('failed', `invalid args for tool "${tool.name}": ${problems.join('; ')}`);
  }

  private compile(tool: ToolDefinition): Validate {
    const key = JSON.stringify(tool.inputSchema);
    const hit = this.compiled.get(key);
    if (hit) {
      // Re-insert: Map order is the recency order used for eviction.
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit;
    }
    let validate: Validate;
    try {
      // A private copy: the validator keeps the schema, and the definition object is not ours to keep.
      validate = compileSchema(structuredClone(tool.inputSchema), {
        regExp: tenantRegex,
        maxPatterns: MAX_SCHEMA_PATTERNS,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message.slice(0, 300) : 'does not compile';
      throw new ToolError(
        'failed',
        `tool "${tool.name}" has an inputSchema that does not compile: ${message}`,
      );
    }
    this.compiled.set(key, validate);
    if (this.compiled.size > MAX_COMPILED_SCHEMAS) {
      const oldestKey = this.compiled.keys().next().value;
      if (oldestKey !== undefined) this.compiled.delete(oldestKey);
    }
    return validate;
  }
}

// "args.city must be string", "args must have required property 'units'": paths, never values.
function describeError(error: SchemaError): string {
  const path = decodePointer(error.instancePath)
    .map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`))
    .join('');
  return `args${path} ${error.message}`;
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

import type { AgentDefinition, ToolDefinition } from '../catalog/model.ts';
import { PROVIDER_TRAITS } from '../catalog/providers.ts';
import type { SecretVault } from '../tenancy/ports.ts';
import type { Version } from '../versioning/model.ts';
import type { DefinitionStore } from '../versioning/ports.ts';
import type { WorkflowDefinition } from '../workflows/model.ts';
import {
  type ArtifactRef,
  artifactMarker,
  looksLikeMarker,
  markedArtifact,
  readArtifact,
} from './artifacts.ts';
import { type BudgetAlert, type BudgetStore, checkBudgetAlerts } from './budget.ts';
import { resolveTemplates, stepsReadBy } from './data.ts';
import { type ExecutionError, monthOf, type RunContext, type StepRecord, usdOf } from './model.ts';
import type { ChatMessage, ModelProvider, ToolCall, ToolRunner, ToolSpec, Usage } from './model-port.ts';
import type { ArtifactStore, ExecutionStore } from './ports.ts';
import { decideOffload, INLINE_OUTPUT_LIMIT_BYTES, jsonBytes, STATE_LIMIT_BYTES } from './state-budget.ts';

/**
 * Step outputs larger than this (UTF-8 bytes) always travel as S3 references; smaller ones too when
 * the whole state would pass its budget (see state-budget.ts).
 */
export const INLINE_OUTPUT_LIMIT = INLINE_OUTPUT_LIMIT_BYTES;

/** The payload a compiled agent or tool Task sends (see functions/core/workflows/compile.ts). */
export interface StepTask {
  readonly kind: 'agent' | 'tool';
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly stepId: string;
  readonly ref: { readonly id: string; readonly version: number };
  readonly prompt?: string;
  readonly args?: unknown;
  readonly executionId: string;
  /** The whole state: `{input, steps, context}` (and `item`, `outer` inside maps). */
  readonly state: Readonly<Record<string, unknown>>;
}

/** What a step run needs. */
export interface StepRunnerDeps {
  /** A step's record and charge: what the step runner writes of an execution. */
  readonly executions: Pick<ExecutionStore, 'steps' | 'startStep' | 'finishStep'>;
  readonly definitions: Pick<DefinitionStore, 'getVersion'>;
  readonly vault: Pick<SecretVault, 'get'>;
  readonly artifacts: ArtifactStore;
  readonly provider: (agent: AgentDefinition) => ModelProvider;
  readonly tools: ToolRunner;
  readonly cost: (provider: string, model: string, usage: Usage) => { micros: number };
  /** The budget reads and alert claims a charge makes; a step never sets a budget. */
  readonly budgets: Omit<BudgetStore, 'putBudget'>;
  /** Told of each budget threshold the month's spend newly reached (the handler logs and counts it). */
  readonly onBudgetAlert: (alert: BudgetAlert) => void | Promise<void>;
  /** Told of each agent step's tokens and cost once recorded (the handler emits metrics). */
  readonly onModelUsage?: (usage: ModelUsage) => void;
  readonly now: () => Date;
  /**
   * The tenant's private-network egress allowlist (set by a platform admin), handed to HTTP tools
   * and providers; without it nothing private is reachable.
   */
  readonly egress?: (tenantId: string) => Promise<readonly string[]>;
}

/** One agent step's model use, as the step runner reports it. */
export interface ModelUsage {
  readonly tenantId: string;
  readonly workflowId: string;
  readonly executionId: string;
  readonly provider: string;
  readonly model: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly costMicros: number;
}

/** A failure the workflow's Retry/Catch can name (`Agent.TooManyToolCalls`, `Step.DefinitionMissing`, …). */
export class StepError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

// Versions never change: a warm container keeps the ones it loaded.
const versionCache = new Map<string, Version<unknown>>();
const cacheKey = (tenantId: string, kind: string, id: string, version: number) =>
  `${tenantId}|${kind}|${id}|${version}`;

async function pinned<D>(
  deps: StepRunnerDeps,
  tenantId: string,
  kind: 'agent' | 'tool' | 'workflow',
  id: string,
  version: number,
): Promise<Version<D>> {
  const key = cacheKey(tenantId, kind, id, version);
  const hit = versionCache.get(key);
  if (hit) return hit as Version<D>;
  const found = await deps.definitions.getVersion<D>(tenantId, kind, id, version);
  if (!found) throw new StepError('Step.DefinitionMissing', `${kind} ${id} version ${version} is missing.`);
  if (versionCache.size > 1000) versionCache.clear();
  versionCache.set(key, found as Version<unknown>);
  return found;
}

function contextOf(task: StepTask): RunContext {
  const context = task.state.context as RunContext | undefined;
  if (!context?.tenantId) throw new StepError('Step.BadPayload', 'The task carries no run context.');
  return context;
}

/** Map iterations record one step per item: `stepId[index]`. */
function stepKeyOf(task: StepTask): string {
  const index = (task.state as { index?: unknown }).index;
  return typeof index === 'number' ? `${task.stepId}[${index}]` : task.stepId;
}

/**
 * Replaces large-output markers with their content for the steps the templates read: a large output
 * is fetched only by the steps that use it, in parallel. A marker counts only when this execution's
 * own step record (read with the run's tenant) holds the matching reference (see artifacts.ts);
 * anything else shaped like one is data and stays as it is.
 */
async function hydrate(
  deps: StepRunnerDeps,
  tenantId: string,
  executionId: string,
  state: Readonly<Record<string, unknown>>,
  needed: ReadonlySet<string>,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = { ...state };
  let records: Promise<readonly StepRecord[]> | undefined;
  for (const bucket of ['steps', 'outer'] as const) {
    const steps = state[bucket] as Record<string, { output?: unknown }> | undefined;
    if (!steps) continue;
    out[bucket] = Object.fromEntries(
      await Promise.all(
        Object.entries(steps).map(async ([id, step]) => {
          if (!needed.has(id) || !looksLikeMarker(step?.output)) return [id, step] as const;
          records ??= deps.executions.steps(tenantId, executionId);
          const ref = markedArtifact(step.output, await records);
          if (!ref) return [id, step] as const;
          return [id, { ...step, output: await readArtifact(deps.artifacts, tenantId, ref) }] as const;
        }),
      ),
    );
  }
  return out;
}

/** The tenant's egress allowlist, read at most once per step and only when a step needs it. */
interface Allowlist {
  /** Starts the read now (beside other work); a failure is thrown where the list is used. */
  start(): void;
  read(): Promise<readonly string[]>;
}

function allowlistOf(deps: StepRunnerDeps, tenantId: string): Allowlist {
  let read: Promise<readonly string[]> | undefined;
  const start = () => {
    read ??= deps.egress ? deps.egress(tenantId) : Promise.resolve([]);
    read.catch(() => undefined);
    return read;
  };
  return { start: () => void start(), read: start };
}

/**
 * Whether an agent can reach an address the tenant chose: through an endpoint it names (a provider
 * taking `baseUrl`) or through its tools. The allowlist only ever widens what is reachable, so a step
 * that reaches nothing runs with an empty one and its read is saved.
 */
function agentReachesNetwork(agent: AgentDefinition): boolean {
  return PROVIDER_TRAITS[agent.provider].fields.baseUrl !== undefined || (agent.tools?.length ?? 0) > 0;
}

/** {@link agentReachesNetwork} or an http tool, from the definitions already cached; undefined when not cached. */
function reachesNetwork(task: StepTask, tenantId: string): boolean | undefined {
  const cached = versionCache.get(cacheKey(tenantId, task.kind, task.ref.id, task.ref.version));
  if (!cached) return undefined;
  return task.kind === 'agent'
    ? agentReachesNetwork(cached.definition as AgentDefinition)
    : (cached.definition as ToolDefinition).type === 'http';
}

function errorOf(error: unknown): ExecutionError {
  if (error instanceof Error)
    return {
      error: error.name === 'Error' ? 'Step.Failed' : error.name,
      cause: error.message.slice(0, 2000),
    };
  return { error: 'Step.Failed', cause: String(error).slice(0, 2000) };
}

/**
 * Runs one agent or tool step: loads the pinned definition, resolves templates, calls the provider
 * (with the bounded tool-call loop) or the tool, and records status, attempts, output, usage, cost
 * and timing on the step. A failure is recorded and rethrown under its name for Retry/Catch.
 */
export async function runStep(deps: StepRunnerDeps, task: StepTask): Promise<unknown> {
  const context = contextOf(task);
  const { tenantId } = context;
  const stepKey = stepKeyOf(task);
  const startedAt = deps.now();
  const egress = allowlistOf(deps, tenantId);
  // Read beside the step's first write, not after it, unless the (cached) definition shows the step
  // reaches no address the tenant chose.
  if (reachesNetwork(task, tenantId) !== false) egress.start();
  const attempts = await deps.executions.startStep(tenantId, task.executionId, {
    stepId: task.stepId,
    stepKey,
    type: task.kind,
    startedAt: startedAt.toISOString(),
    ref: task.ref,
  });
  const base: Omit<StepRecord, 'status'> = {
    stepId: task.stepId,
    stepKey,
    type: task.kind,
    attempts,
    startedAt: startedAt.toISOString(),
    ref: task.ref,
  };
  try {
    const data = await hydrate(
      deps,
      tenantId,
      task.executionId,
      task.state,
      stepsReadBy(task.kind === 'agent' ? task.prompt : task.args),
    );
    const result =
      task.kind === 'agent'
        ? await runAgent(deps, task, context, data, egress)
        : await runTool(deps, task, context, data, egress);
    const endedAt = deps.now();
    const serialized = JSON.stringify(result.output);
    const workflow = await pinned<WorkflowDefinition>(
      deps,
      tenantId,
      'workflow',
      task.workflowId,
      task.workflowVersion,
    );
    const decision = decideOffload({
      workflow: workflow.definition,
      stepId: task.stepId,
      state: task.state,
      output: result.output,
    });
    let outputRef: ArtifactRef | undefined;
    if (decision.offload) {
      const key = `executions/${task.executionId}/${stepKey}-${attempts}.json`;
      const uri = await deps.artifacts.put(tenantId, key, serialized);
      outputRef = { key, uri, size: decision.outputBytes };
    }
    const output = outputRef ? artifactMarker(outputRef, stepKey) : result.output;
    if (outputRef && jsonBytes(output) > decision.allowanceBytes) {
      // Even the reference does not fit: fail here, where Catch can see it, rather than let Step
      // Functions end the execution with States.DataLimitExceeded.
      throw new StepError(
        'Step.StateTooLarge',
        `The workflow's state would pass ${Math.round(STATE_LIMIT_BYTES / 1024)} KiB after step ${stepKey}; use fewer map items or smaller inputs.`,
      );
    }
    // The budget is read beside the charge (both are needed only for the alert check).
    const budget =
      result.costMicros > 0
        ? deps.budgets.getBudget(tenantId).then(
            (found) => found ?? null,
            () => null,
          )
        : undefined;
    const spentMicros = await deps.executions.finishStep(
      tenantId,
      task.executionId,
      {
        ...base,
        status: 'SUCCEEDED',
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - startedAt.getTime(),
        output,
        ...(outputRef ? { outputRef } : {}),
        ...(result.usage ? { usage: result.usage, costMicros: result.costMicros } : {}),
      },
      result.usage
        ? {
            usage: result.usage,
            costMicros: result.costMicros,
            workflowId: task.workflowId,
            ...(task.kind === 'agent' ? { agentId: task.ref.id } : {}),
            teams: context.teams,
            month: monthOf(context.startedAt),
          }
        : undefined,
    );
    if (result.usage && result.model) {
      deps.onModelUsage?.({
        tenantId,
        workflowId: task.workflowId,
        executionId: task.executionId,
        ...result.model,
        ...result.usage,
        costMicros: result.costMicros,
      });
    }
    if (result.costMicros > 0) {
      // Best effort: a failed check must not fail a step whose work is done; the next charge re-checks.
      await checkBudgetAlerts(
        deps.budgets,
        tenantId,
        monthOf(context.startedAt),
        endedAt.toISOString(),
        deps.onBudgetAlert,
        spentMicros,
        await budget,
      ).catch(() => undefined);
    }
    return output;
  } catch (error) {
    const endedAt = deps.now();
    await deps.executions.finishStep(
      tenantId,
      task.executionId,
      {
        ...base,
        status: 'FAILED',
        endedAt: endedAt.toISOString(),
        durationMs: endedAt.getTime() - startedAt.getTime(),
        error: errorOf(error),
      },
      undefined,
    );
    throw error;
  }
}

interface StepResult {
  readonly output: unknown;
  readonly usage?: Usage;
  readonly costMicros: number;
  /** The provider and model an agent step called. */
  readonly model?: { readonly provider: string; readonly model: string };
}

async function runTool(
  deps: StepRunnerDeps,
  task: StepTask,
  context: RunContext,
  data: Record<string, unknown>,
  egress: Allowlist,
): Promise<StepResult> {
  const tool = await pinned<ToolDefinition>(deps, context.tenantId, 'tool', task.ref.id, task.ref.version);
  const args = resolveTemplates(task.args ?? {}, data) as Record<string, unknown>;
  const output = await deps.tools.run(tool.definition, args, {
    tenantId: context.tenantId,
    secret: (name) => deps.vault.get(context.tenantId, name),
    egress: tool.definition.type === 'http' ? await egress.read() : [],
  });
  return { output, costMicros: 0 };
}

function parseJson(text: string): unknown {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return undefined;
  }
}

async function runAgent(
  deps: StepRunnerDeps,
  task: StepTask,
  context: RunContext,
  data: Record<string, unknown>,
  allowlist: Allowlist,
): Promise<StepResult> {
  const { tenantId } = context;
  const agentVersion = await pinned<AgentDefinition>(deps, tenantId, 'agent', task.ref.id, task.ref.version);
  const agent = agentVersion.definition;
  const workflow = await pinned<WorkflowDefinition>(
    deps,
    tenantId,
    'workflow',
    task.workflowId,
    task.workflowVersion,
  );
  // The agent's tools run at the versions the workflow version pinned.
  const tools = new Map<string, ToolDefinition>();
  for (const toolId of agent.tools ?? []) {
    const version = workflow.pins?.tools[toolId];
    if (version === undefined)
      throw new StepError('Step.DefinitionMissing', `Tool ${toolId} is not pinned by this workflow version.`);
    tools.set(toolId, (await pinned<ToolDefinition>(deps, tenantId, 'tool', toolId, version)).definition);
  }
  const specs: ToolSpec[] = [...tools.entries()].map(([toolId, t]) => ({
    toolId,
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    inputSchema: t.inputSchema as Record<string, unknown>,
  }));
  const prompt = String(resolveTemplates(task.prompt ?? '', data) ?? '');
  const apiKeyFrom = PROVIDER_TRAITS[agent.provider].apiKeyFrom;
  const apiKeySecret = apiKeyFrom ? agent[apiKeyFrom] : undefined;
  const apiKey = apiKeySecret ? await deps.vault.get(tenantId, apiKeySecret) : undefined;
  const provider = deps.provider(agent);
  const egress = agentReachesNetwork(agent) ? await allowlist.read() : [];
  const messages: ChatMessage[] = [{ role: 'user', content: prompt }];
  const usage = { inputTokens: 0, outputTokens: 0 };
  const maxToolCalls = agent.maxToolCalls ?? 8;
  let toolCalls = 0;
  for (;;) {
    const response = await provider.converse({
      agent,
      messages,
      tools: specs,
      egress,
      ...(apiKey ? { apiKey } : {}),
    });
    usage.inputTokens += response.usage.inputTokens;
    usage.outputTokens += response.usage.outputTokens;
    if (response.toolCalls.length === 0) {
      const { micros } = deps.cost(agent.provider, agent.model, usage);
      const parsed = parseJson(response.text);
      return {
        output: {
          text: response.text,
          ...(parsed !== undefined ? { data: parsed } : {}),
          usage,
          costUsd: usdOf(micros),
        },
        usage,
        costMicros: micros,
        model: { provider: agent.provider, model: agent.model },
      };
    }
    toolCalls += response.toolCalls.length;
    if (toolCalls > maxToolCalls) {
      throw new StepError(
        'Agent.TooManyToolCalls',
        `The agent asked for more than ${maxToolCalls} tool calls.`,
      );
    }
    messages.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls });
    for (const call of response.toolCalls) messages.push(await callTool(deps, tenantId, egress, tools, call));
  }
}

async function callTool(
  deps: StepRunnerDeps,
  tenantId: string,
  egress: readonly string[],
  tools: Map<string, ToolDefinition>,
  call: ToolCall,
): Promise<ChatMessage> {
  const tool = tools.get(call.toolId);
  let content: string;
  if (!tool) {
    content = JSON.stringify({ error: `unknown tool ${call.toolId}` });
  } else {
    try {
      content = JSON.stringify(
        await deps.tools.run(tool, call.args, {
          tenantId,
          egress,
          secret: (name) => deps.vault.get(tenantId, name),
        }),
      );
    } catch (error) {
      // The model sees the failure and may recover; the step fails only if the agent cannot.
      content = JSON.stringify({
        error: error instanceof Error ? `${error.name}: ${error.message}` : 'tool failed',
      });
    }
  }
  return { role: 'tool', toolCallId: call.id, toolId: call.toolId, content };
}

/**
 * Shared fixtures for the workflow tests: a fake catalog, compile options, the execution input a run
 * starts with, example workflows (one per step type and a few combinations), and small helpers to
 * read problems and run asl-validator.
 */
import { createRequire } from 'node:module';
import type { JsonValue } from '#core/catalog/model.ts';
import { type FieldProblem, ValidationError } from '#core/errors.ts';
import type { RunContext } from '#core/executions/model.ts';
import type { CompileOptions } from '#core/workflows/compile.ts';
import type { Condition, Step, StepGraph, WorkflowDefinition } from '#core/workflows/model.ts';
import type { WorkflowValidationContext } from '#core/workflows/validate.ts';

/** ARN of the step runner in compiled examples. */
export const STEP_RUNNER_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:meridian-step-runner';
/** ARN of the approval handler in compiled examples. */
export const APPROVAL_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:meridian-approval';

const AGENTS = new Set(['writer', 'classifier']);
const TOOLS = new Set(['weather', 'search']);

/** A catalog with agents `writer`, `classifier` and tools `weather`, `search`. */
export const catalog: WorkflowValidationContext = {
  agentExists: (id) => AGENTS.has(id),
  toolExists: (id) => TOOLS.has(id),
};

/** Compile options pinning every fixture agent and tool. */
export const compileOptions: CompileOptions = {
  stepRunnerArn: STEP_RUNNER_ARN,
  approvalHandlerArn: APPROVAL_ARN,
  pins: { agents: { writer: 3, classifier: 1 }, tools: { weather: 2, search: 5 } },
  workflowId: 'wf1',
  version: 7,
};

/** A {@link RunContext} as plain JSON (mutable, so it is a `JsonValue`). */
export type RunContextJson = {
  -readonly [K in keyof RunContext]: RunContext[K] extends readonly string[] ? string[] : RunContext[K];
};

/** The execution input every run starts with: what the start use case hands the engine. */
export type RunInput = {
  input: JsonValue;
  steps: { [stepId: string]: JsonValue };
  context: RunContextJson;
};

/**
 * The run context of a fixture execution, with `overrides`: tenant `tenant-acme`, execution `exec-1`
 * (also the local runs' `$$.Execution.Name`, as in AWS where the execution is named after its id),
 * and the workflow and version of {@link compileOptions}.
 */
export function runContext(overrides: Partial<RunContextJson> = {}): RunContextJson {
  return {
    tenantId: 'tenant-acme',
    executionId: 'exec-1',
    workflowId: compileOptions.workflowId,
    workflowVersion: compileOptions.version,
    environment: 'staging',
    startedBy: 'user-ada',
    startedAt: '2025-03-14T09:26:53.000Z',
    teams: ['team-ops', 'team-data'],
    ...overrides,
  };
}

/** The execution input of a run of `input`: `{input, steps: {}, context}` (context: {@link runContext}). */
export function runInput(input: JsonValue, overrides: Partial<RunContextJson> = {}): RunInput {
  return { input, steps: {}, context: runContext(overrides) };
}

/** A workflow around `steps`, starting at `startAt` (default: the first step). */
export function workflow(
  steps: Record<string, unknown>,
  startAt?: string,
  extra: Record<string, unknown> = {},
) {
  return { name: 'test', startAt: startAt ?? Object.keys(steps)[0], steps, ...extra };
}

/** The problems of the `ValidationError` `act` throws; fails the test if it throws nothing else. */
export function problemsOf(act: () => unknown): readonly FieldProblem[] {
  try {
    act();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ValidationError, got none');
}

type AslValidator = (
  definition: unknown,
  options?: { checkPaths?: boolean; checkArn?: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };

// asl-validator is CommonJS without types; it also writes QueryLanguage into what it is given.
// Loaded on first use: the fast tests (the mutation set) import these fixtures but never validate ASL.
let aslValidator: AslValidator | undefined;

/** asl-validator's verdict on a definition: '' when valid, else its errors. */
export function aslErrors(asl: unknown): string {
  aslValidator ??= createRequire(import.meta.url)('asl-validator') as AslValidator;
  const result = aslValidator(structuredClone(asl), { checkPaths: true, checkArn: true });
  return result.isValid ? '' : result.errorsText('\n');
}

/** Steps in a workflow, nested ones included. */
export function countSteps(graph: StepGraph): number {
  let count = 0;
  for (const step of Object.values(graph.steps) as Step[]) {
    count++;
    if (step.type === 'parallel') for (const branch of step.branches) count += countSteps(branch);
    if (step.type === 'map') count += countSteps(step.iterator);
  }
  return count;
}

// Typed through a function so each literal is checked and typed as a WorkflowDefinition.
function examples<K extends string>(
  defs: Record<K, WorkflowDefinition>,
): Readonly<Record<K, WorkflowDefinition>> {
  return defs;
}

/** Example workflows, valid, used by the compile and execution tests. */
export const EXAMPLES = examples({
  agentAndTool: {
    name: 'agent then tool',
    startAt: 'draft',
    steps: {
      draft: {
        type: 'agent',
        agentId: 'writer',
        prompt: 'Write about {{input.topic}}',
        timeoutSeconds: 60,
        next: 'lookup',
      },
      lookup: {
        type: 'tool',
        toolId: 'weather',
        args: { city: '{{input.city}}', note: '{{steps.draft.output.text}}', units: ['metric'] },
        end: true,
      },
    },
  },
  choice: {
    name: 'routing',
    startAt: 'classify',
    steps: {
      classify: { type: 'agent', agentId: 'classifier', prompt: 'Classify: {{input.text}}', next: 'route' },
      route: {
        type: 'choice',
        choices: [
          { when: { path: 'steps.classify.output.data.score', greaterThan: 7 }, next: 'high' },
          {
            when: {
              and: [{ path: 'input.lang', equals: 'fr' }, { not: { path: 'input.vip', exists: true } }],
            },
            next: 'french',
          },
          { when: { path: 'steps.classify.output.text', contains: 'urgent*' }, next: 'urgent' },
          {
            when: {
              or: [
                { path: 'input.flag', equals: true },
                { path: 'input.note', equals: null },
              ],
            },
            next: 'flagged',
          },
        ],
        default: 'low',
      },
      high: { type: 'succeed' },
      french: { type: 'succeed' },
      urgent: { type: 'succeed' },
      flagged: { type: 'succeed' },
      low: { type: 'succeed' },
    },
  },
  parallel: {
    name: 'fan out',
    startAt: 'fan',
    steps: {
      fan: {
        type: 'parallel',
        branches: [
          {
            startAt: 'weather',
            steps: {
              weather: { type: 'tool', toolId: 'weather', args: { city: '{{input.city}}' }, end: true },
            },
          },
          {
            startAt: 'news',
            steps: {
              news: { type: 'agent', agentId: 'writer', prompt: 'News of {{input.city}}', next: 'summary' },
              summary: {
                type: 'agent',
                agentId: 'writer',
                prompt: 'Summarize {{steps.news.output.text}}',
                end: true,
              },
            },
          },
          { startAt: 'pause', steps: { pause: { type: 'wait', seconds: 5, end: true } } },
        ],
        next: 'report',
      },
      report: {
        type: 'agent',
        agentId: 'writer',
        prompt: '{{steps.weather.output.text}} / {{steps.summary.output.text}}',
        end: true,
      },
    },
  },
  map: {
    name: 'per item',
    startAt: 'prep',
    steps: {
      prep: { type: 'tool', toolId: 'search', args: { q: '{{input.q}}' }, next: 'each' },
      each: {
        type: 'map',
        itemsPath: 'input.items',
        maxConcurrency: 2,
        iterator: {
          startAt: 'enrich',
          steps: {
            enrich: {
              type: 'tool',
              toolId: 'weather',
              args: { city: '{{item.city}}', hint: '{{steps.prep.output.text}}' },
              next: 'check',
            },
            check: {
              type: 'choice',
              choices: [
                { when: { path: 'item.skip', equals: true }, next: 'skipped' },
                { when: { path: 'steps.prep.output.data.short', equals: true }, next: 'skipped' },
              ],
              default: 'write',
            },
            write: {
              type: 'agent',
              agentId: 'writer',
              prompt: 'About {{item.city}}: {{steps.enrich.output.text}}',
              end: true,
            },
            skipped: { type: 'succeed' },
          },
        },
        next: 'wrap',
      },
      wrap: { type: 'agent', agentId: 'writer', prompt: 'Wrap up {{steps.each.output}}', end: true },
    },
  },
  approval: {
    name: 'approval',
    startAt: 'ask',
    steps: {
      ask: {
        type: 'approval',
        approvers: { roles: ['admin'], users: ['u1'] },
        message: 'Ship it?',
        timeoutSeconds: 3600,
        catch: [{ errors: ['States.Timeout'], next: 'expired' }],
        next: 'decide',
      },
      decide: {
        type: 'choice',
        choices: [{ when: { path: 'steps.ask.output.decision', equals: 'approve' }, next: 'ship' }],
        default: 'rejected',
      },
      ship: { type: 'tool', toolId: 'search', args: { q: 'ship' }, end: true },
      rejected: { type: 'fail', error: 'Rejected', cause: 'The approver said no' },
      expired: { type: 'fail', error: 'Expired' },
    },
  },
  wait: {
    name: 'wait',
    startAt: 'pause',
    timeoutSeconds: 7200,
    steps: { pause: { type: 'wait', seconds: 3600, next: 'done' }, done: { type: 'succeed' } },
  },
  retryCatch: {
    name: 'retry and catch',
    startAt: 'call',
    steps: {
      call: {
        type: 'tool',
        toolId: 'weather',
        args: { city: '{{input.city}}' },
        retry: { maxAttempts: 2, intervalSeconds: 1, backoffRate: 2, maxDelaySeconds: 10, jitter: true },
        catch: [
          { errors: ['Tool.Failed'], next: 'fallback' },
          { errors: ['States.ALL'], next: 'broken' },
        ],
        next: 'done',
      },
      fallback: { type: 'agent', agentId: 'writer', prompt: 'No data for {{input.city}}', end: true },
      broken: { type: 'fail', error: 'Broken', cause: 'unexpected failure' },
      done: { type: 'succeed' },
    },
  },
  fail: {
    name: 'fail',
    startAt: 'stop',
    steps: { stop: { type: 'fail', error: 'Boom', cause: 'nothing to do' } },
  },
  pollLoop: {
    name: 'poll until ready',
    startAt: 'check',
    steps: {
      check: { type: 'tool', toolId: 'search', args: { q: 'status' }, next: 'ready' },
      ready: {
        type: 'choice',
        choices: [{ when: { path: 'steps.check.output.data.done', equals: true }, next: 'finish' }],
        default: 'pause',
      },
      pause: { type: 'wait', seconds: 60, next: 'check' },
      finish: { type: 'succeed' },
    },
  },
});

/** A valid linear workflow of `count` steps alternating agent and tool steps. */
export function linearWorkflow(count: number): WorkflowDefinition {
  const steps: Record<string, Step> = {};
  for (let i = 0; i < count; i++) {
    const next = i + 1 < count ? { next: `s${i + 1}` } : { end: true };
    steps[`s${i}`] =
      i % 2 === 0
        ? {
            type: 'agent',
            agentId: 'writer',
            prompt: i === 0 ? '{{input.x}}' : `{{steps.s${i - 1}.output.text}}`,
            ...next,
          }
        : { type: 'tool', toolId: 'weather', args: { city: `{{steps.s${i - 1}.output.text}}` }, ...next };
  }
  return { name: 'linear', startAt: 's0', steps };
}

/** A workflow whose first step is a choice on `when`, going to `yes` or (default) `no`. */
export function gated(when: Condition): WorkflowDefinition {
  return {
    name: 'gate',
    startAt: 'gate',
    steps: {
      gate: { type: 'choice', choices: [{ when, next: 'yes' }], default: 'no' },
      yes: { type: 'agent', agentId: 'writer', prompt: 'yes', end: true },
      no: { type: 'agent', agentId: 'writer', prompt: 'no', end: true },
    },
  };
}

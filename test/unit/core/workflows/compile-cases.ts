/**
 * The compile cases: a small workflow per step type, the exact ASL it compiles to, and how a local
 * run of it ends. `compile.test.ts` pins the ASL (fast, in the mutation set); `compile-run.test.ts`
 * checks the same definitions with asl-validator and runs them in aws-local-stepfunctions (slow, so
 * outside the mutation set, docs/mutation.md).
 */
import type { JsonValue } from '#core/catalog/model.ts';
import type { AslObject } from '#core/workflows/compile.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { APPROVAL_ARN, STEP_RUNNER_ARN } from './fixtures.ts';

export const LAMBDA_RETRIER = {
  ErrorEquals: [
    'Lambda.ServiceException',
    'Lambda.AWSLambdaException',
    'Lambda.SdkClientException',
    'Lambda.TooManyRequestsException',
    'Lambda.ClientExecutionTimeoutException',
  ],
  IntervalSeconds: 1,
  MaxAttempts: 3,
  BackoffRate: 2,
  JitterStrategy: 'FULL',
};

export const comment = (id: string, type: string) => `${type} step ${id} (workflow wf1 version 7)`;

export function task(
  id: string,
  kind: 'agent' | 'tool',
  ref: { id: string; version: number },
  extra: AslObject,
) {
  const { payload, ...rest } = extra as { payload: AslObject } & AslObject;
  return {
    Type: 'Task',
    Comment: comment(id, kind),
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: {
      FunctionName: STEP_RUNNER_ARN,
      Payload: {
        kind,
        workflowId: 'wf1',
        workflowVersion: 7,
        stepId: id,
        ref,
        'executionId.$': '$$.Execution.Name',
        'state.$': '$',
        ...payload,
      },
    },
    ResultSelector: { 'output.$': '$.Payload' },
    ResultPath: `$.steps.${id}`,
    Retry: [LAMBDA_RETRIER],
    ...rest,
  };
}

/** {@link task} inside a map iterator: the runner's `state` is rebuilt from the iteration's state. */
export function iteratorTask(
  id: string,
  kind: 'agent' | 'tool',
  ref: { id: string; version: number },
  extra: AslObject,
) {
  const compiled = task(id, kind, ref, extra);
  const { 'state.$': _whole, ...payload } = compiled.Parameters.Payload;
  return {
    ...compiled,
    Parameters: {
      ...compiled.Parameters,
      Payload: {
        ...payload,
        state: {
          'input.$': '$.input',
          'item.$': '$.item',
          'index.$': '$.index',
          'context.$': '$.context',
          'steps.$': 'States.JsonMerge($.outer, $.steps, false)',
        },
      },
    },
  };
}

export interface Case {
  readonly type: string;
  readonly def: WorkflowDefinition;
  readonly input: Record<string, JsonValue>;
  readonly expected: AslObject;
  /**
   * How a local run ends, which steps it records in `steps`, and how many task invocations (runner
   * and approval handler) it makes.
   */
  readonly run: {
    readonly status: 'SUCCEEDED' | 'FAILED';
    readonly steps?: readonly string[];
    readonly tasks: number;
  };
}

export const top = (startAt: string, states: AslObject, extra: AslObject = {}) => ({
  Comment: 'Meridian workflow wf1 version 7',
  StartAt: startAt,
  States: states,
  ...extra,
});

export const CASES: Case[] = [
  {
    type: 'agent (retry, timeout, catch)',
    def: {
      name: 'agent',
      startAt: 'ask',
      steps: {
        ask: {
          type: 'agent',
          agentId: 'writer',
          prompt: 'Hi {{input.name}}',
          retry: { maxAttempts: 2, intervalSeconds: 3, backoffRate: 1.5, maxDelaySeconds: 30, jitter: true },
          timeoutSeconds: 120,
          catch: [{ errors: ['States.Timeout'], next: 'oops' }],
          next: 'done',
        },
        oops: { type: 'fail', error: 'TimedOut' },
        done: { type: 'succeed' },
      },
    },
    input: { name: 'Ada' },
    run: { status: 'SUCCEEDED', steps: ['ask'], tasks: 1 },
    expected: top('ask', {
      ask: task(
        'ask',
        'agent',
        { id: 'writer', version: 3 },
        {
          payload: { prompt: 'Hi {{input.name}}' },
          Retry: [
            LAMBDA_RETRIER,
            {
              ErrorEquals: ['States.ALL'],
              MaxAttempts: 2,
              IntervalSeconds: 3,
              BackoffRate: 1.5,
              MaxDelaySeconds: 30,
              JitterStrategy: 'FULL',
            },
          ],
          TimeoutSeconds: 120,
          Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'oops', ResultPath: '$.steps.ask.error' }],
          Next: 'done',
        },
      ),
      oops: { Type: 'Fail', Comment: comment('oops', 'fail'), Error: 'TimedOut' },
      done: { Type: 'Succeed', Comment: comment('done', 'succeed') },
    }),
  },
  {
    type: 'tool',
    def: {
      name: 'tool',
      startAt: 'call',
      steps: {
        call: { type: 'tool', toolId: 'weather', args: { city: '{{input.city}}', days: 3 }, end: true },
      },
    },
    input: { city: 'Oslo' },
    run: { status: 'SUCCEEDED', steps: ['call'], tasks: 1 },
    expected: top('call', {
      call: task(
        'call',
        'tool',
        { id: 'weather', version: 2 },
        { payload: { args: { city: '{{input.city}}', days: 3 } }, End: true },
      ),
    }),
  },
  {
    type: 'choice',
    def: {
      name: 'choice',
      startAt: 'pick',
      steps: {
        pick: {
          type: 'choice',
          choices: [
            { when: { path: 'input.n', lessThan: 5 }, next: 'small' },
            { when: { path: 'input.tag', notEquals: 'x' }, next: 'small' },
            { when: { path: 'input.list.0.name', greaterThan: 'm' }, next: 'small' },
            { when: { path: 'input.flag', exists: false }, next: 'small' },
          ],
          default: 'big',
        },
        small: { type: 'succeed' },
        big: { type: 'succeed' },
      },
    },
    input: { n: 9, tag: 'x', list: [{ name: 'a' }], flag: 1 },
    run: { status: 'SUCCEEDED', steps: [], tasks: 0 },
    expected: top('pick', {
      pick: {
        Type: 'Choice',
        Comment: comment('pick', 'choice'),
        Choices: [
          {
            And: [
              { Variable: '$.input.n', IsPresent: true },
              { Variable: '$.input.n', IsNumeric: true },
              { Variable: '$.input.n', NumericLessThan: 5 },
            ],
            Next: 'small',
          },
          {
            Not: {
              And: [
                { Variable: '$.input.tag', IsPresent: true },
                { Variable: '$.input.tag', IsString: true },
                { Variable: '$.input.tag', StringEquals: 'x' },
              ],
            },
            Next: 'small',
          },
          {
            And: [
              { Variable: '$.input.list[0].name', IsPresent: true },
              { Variable: '$.input.list[0].name', IsString: true },
              { Variable: '$.input.list[0].name', StringGreaterThan: 'm' },
            ],
            Next: 'small',
          },
          { Variable: '$.input.flag', IsPresent: false, Next: 'small' },
        ],
        Default: 'big',
      },
      small: { Type: 'Succeed', Comment: comment('small', 'succeed') },
      big: { Type: 'Succeed', Comment: comment('big', 'succeed') },
    }),
  },
  {
    type: 'parallel',
    def: {
      name: 'parallel',
      startAt: 'both',
      steps: {
        both: {
          type: 'parallel',
          branches: [
            { startAt: 'left', steps: { left: { type: 'tool', toolId: 'weather', args: {}, end: true } } },
            { startAt: 'right', steps: { right: { type: 'tool', toolId: 'search', args: {}, end: true } } },
            { startAt: 'idle', steps: { idle: { type: 'succeed' } } },
          ],
          end: true,
        },
      },
    },
    input: {},
    run: { status: 'SUCCEEDED', steps: ['left', 'right'], tasks: 2 },
    expected: top('both', {
      both: {
        Type: 'Parallel',
        Comment: comment('both', 'parallel'),
        Branches: [
          {
            StartAt: 'left',
            States: {
              left: task('left', 'tool', { id: 'weather', version: 2 }, { payload: { args: {} }, End: true }),
            },
          },
          {
            StartAt: 'right',
            States: {
              right: task(
                'right',
                'tool',
                { id: 'search', version: 5 },
                { payload: { args: {} }, End: true },
              ),
            },
          },
          { StartAt: 'idle', States: { idle: { Type: 'Succeed', Comment: comment('idle', 'succeed') } } },
        ],
        ResultSelector: {
          'input.$': '$[0].input',
          'steps.$': 'States.JsonMerge(States.JsonMerge($[0].steps, $[1].steps, false), $[2].steps, false)',
          'context.$': '$[0].context',
        },
        End: true,
      },
    }),
  },
  {
    type: 'map',
    def: {
      name: 'map',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          maxConcurrency: 3,
          iterator: {
            startAt: 'one',
            steps: { one: { type: 'tool', toolId: 'weather', args: { x: '{{item.x}}' }, end: true } },
          },
          end: true,
        },
      },
    },
    input: { items: [{ x: 1 }, { x: 2 }] },
    run: { status: 'SUCCEEDED', steps: ['each'], tasks: 2 },
    expected: top('each', {
      each: {
        Type: 'Map',
        Comment: comment('each', 'map'),
        ItemsPath: '$.input.items',
        MaxConcurrency: 3,
        ItemSelector: {
          'input.$': '$.input',
          'outer.$': '$.steps',
          steps: {},
          'item.$': '$$.Map.Item.Value',
          'index.$': '$$.Map.Item.Index',
          'context.$': '$.context',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'one',
          States: {
            one: {
              ...task(
                'one',
                'tool',
                { id: 'weather', version: 2 },
                { payload: { args: { x: '{{item.x}}' } }, End: true },
              ),
              Parameters: {
                FunctionName: STEP_RUNNER_ARN,
                Payload: {
                  kind: 'tool',
                  workflowId: 'wf1',
                  workflowVersion: 7,
                  stepId: 'one',
                  ref: { id: 'weather', version: 2 },
                  'executionId.$': '$$.Execution.Name',
                  state: {
                    'input.$': '$.input',
                    'item.$': '$.item',
                    'index.$': '$.index',
                    'context.$': '$.context',
                    'steps.$': 'States.JsonMerge($.outer, $.steps, false)',
                  },
                  args: { x: '{{item.x}}' },
                },
              },
              OutputPath: '$.steps',
            },
          },
        },
        ResultPath: '$.steps.each.output',
        End: true,
      },
    }),
  },
  {
    type: 'parallel inside a map iterator',
    def: {
      name: 'parallel in map',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'fan',
            steps: {
              fan: {
                type: 'parallel',
                branches: [
                  { startAt: 'a', steps: { a: { type: 'tool', toolId: 'weather', args: {}, end: true } } },
                  {
                    startAt: 'b',
                    steps: { b: { type: 'agent', agentId: 'writer', prompt: '{{item}}', end: true } },
                  },
                ],
                end: true,
              },
            },
          },
          end: true,
        },
      },
    },
    input: { items: ['x', 'y'] },
    run: { status: 'SUCCEEDED', steps: ['each'], tasks: 4 },
    expected: top('each', {
      each: {
        Type: 'Map',
        Comment: comment('each', 'map'),
        ItemsPath: '$.input.items',
        ItemSelector: {
          'input.$': '$.input',
          'outer.$': '$.steps',
          steps: {},
          'item.$': '$$.Map.Item.Value',
          'index.$': '$$.Map.Item.Index',
          'context.$': '$.context',
        },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'INLINE' },
          StartAt: 'fan',
          States: {
            fan: {
              Type: 'Parallel',
              Comment: comment('fan', 'parallel'),
              Branches: [
                {
                  StartAt: 'a',
                  States: {
                    a: iteratorTask(
                      'a',
                      'tool',
                      { id: 'weather', version: 2 },
                      { payload: { args: {} }, End: true },
                    ),
                  },
                },
                {
                  StartAt: 'b',
                  States: {
                    b: iteratorTask(
                      'b',
                      'agent',
                      { id: 'writer', version: 3 },
                      { payload: { prompt: '{{item}}' }, End: true },
                    ),
                  },
                },
              ],
              ResultSelector: {
                'input.$': '$[0].input',
                'steps.$': 'States.JsonMerge($[0].steps, $[1].steps, false)',
                'context.$': '$[0].context',
                'outer.$': '$[0].outer',
                'item.$': '$[0].item',
                'index.$': '$[0].index',
              },
              End: true,
              OutputPath: '$.steps',
            },
          },
        },
        ResultPath: '$.steps.each.output',
        End: true,
      },
    }),
  },
  {
    type: 'approval',
    def: {
      name: 'approval',
      startAt: 'ok',
      steps: {
        ok: {
          type: 'approval',
          approvers: { roles: ['admin'] },
          timeoutSeconds: 600,
          allowRequesterApproval: true,
          end: true,
        },
      },
    },
    input: {},
    run: { status: 'SUCCEEDED', steps: ['ok'], tasks: 1 },
    expected: top('ok', {
      ok: {
        Type: 'Task',
        Comment: comment('ok', 'approval'),
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: APPROVAL_ARN,
          Payload: {
            'taskToken.$': '$$.Task.Token',
            'executionId.$': '$$.Execution.Name',
            workflowId: 'wf1',
            workflowVersion: 7,
            stepId: 'ok',
            approvers: { roles: ['admin'], users: [] },
            allowRequesterApproval: true,
            'context.$': '$.context',
            timeoutSeconds: 600,
          },
        },
        ResultPath: '$.steps.ok',
        Retry: [LAMBDA_RETRIER],
        TimeoutSeconds: 600,
        End: true,
      },
    }),
  },
  {
    type: 'approval (no timeout, a message)',
    def: {
      name: 'approval',
      startAt: 'ok',
      steps: { ok: { type: 'approval', approvers: { users: ['u2'] }, message: 'Go?', end: true } },
    },
    input: {},
    run: { status: 'SUCCEEDED', steps: ['ok'], tasks: 1 },
    expected: top('ok', {
      ok: {
        Type: 'Task',
        Comment: comment('ok', 'approval'),
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: {
          FunctionName: APPROVAL_ARN,
          Payload: {
            'taskToken.$': '$$.Task.Token',
            'executionId.$': '$$.Execution.Name',
            workflowId: 'wf1',
            workflowVersion: 7,
            stepId: 'ok',
            approvers: { roles: [], users: ['u2'] },
            allowRequesterApproval: false,
            message: 'Go?',
            'context.$': '$.context',
          },
        },
        ResultPath: '$.steps.ok',
        Retry: [LAMBDA_RETRIER],
        End: true,
      },
    }),
  },
  {
    type: 'wait (and a workflow timeout)',
    def: {
      name: 'wait',
      startAt: 'nap',
      timeoutSeconds: 900,
      steps: { nap: { type: 'wait', seconds: 300, end: true } },
    },
    input: {},
    run: { status: 'SUCCEEDED', steps: [], tasks: 0 },
    expected: top(
      'nap',
      { nap: { Type: 'Wait', Comment: comment('nap', 'wait'), Seconds: 300, End: true } },
      { TimeoutSeconds: 900 },
    ),
  },
  {
    type: 'fail',
    def: { name: 'fail', startAt: 'no', steps: { no: { type: 'fail', error: 'Nope', cause: 'because' } } },
    input: {},
    run: { status: 'FAILED', tasks: 0 },
    expected: top('no', {
      no: { Type: 'Fail', Comment: comment('no', 'fail'), Error: 'Nope', Cause: 'because' },
    }),
  },
];

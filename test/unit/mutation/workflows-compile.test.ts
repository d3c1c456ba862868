/**
 * The compiler's corners the per-type cases (compile-cases.ts) leave open, each pinned by its exact
 * ASL: which states of a map iterator end the iteration, data paths inside nested iterators, the
 * problems of missing pins in branches and iterators, the 1 MB boundary, state counting, canonical
 * keys, retriers and approvals in their minimal forms.
 */
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '#core/catalog/model.ts';
import { PayloadTooLargeError, ValidationError } from '#core/errors.ts';
import {
  type AslObject,
  compileWorkflow,
  countStates,
  LAMBDA_INVOKE,
  LAMBDA_INVOKE_WAIT,
  LAMBDA_TRANSIENT_ERRORS,
  MAX_ASL_BYTES,
  partitionOf,
} from '#core/workflows/compile.ts';
import type { WorkflowDefinition } from '#core/workflows/model.ts';
import { validateWorkflow } from '#core/workflows/validate.ts';
import { CASES, comment, LAMBDA_RETRIER } from '../core/workflows/compile-cases.ts';
import {
  APPROVAL_ARN,
  catalog,
  compileOptions,
  EXAMPLES,
  problemsOf,
  STEP_RUNNER_ARN,
} from '../core/workflows/fixtures.ts';

/** The compiled definition of `def`, validated first. */
function compiled(def: WorkflowDefinition) {
  return compileWorkflow(validateWorkflow(def, catalog), compileOptions);
}

/** The states of `asl`'s state `name` ItemProcessor (a map's iterator). */
function iteratorStates(states: AslObject, name: string): Record<string, AslObject> {
  const map = states[name] as { ItemProcessor: { States: Record<string, AslObject> } };
  return map.ItemProcessor.States;
}

describe('the compiled definition object', () => {
  it.each([...Object.entries(EXAMPLES), ...CASES.map((c) => [c.type, c.def] as const)])(
    'of %s has no key without a value',
    (_name, def) => {
      // Act
      const { asl, json } = compiled(def);

      // Assess
      expect(asl).toStrictEqual(JSON.parse(json));
    },
  );

  it('is exactly JSON.parse of the compiled JSON: no key without a value, keys sorted at every level', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'plain',
      startAt: 't',
      steps: {
        t: { type: 'tool', toolId: 'weather', args: { zeta: { b: 1, a: [3, 1, 2] }, alpha: 'x' }, next: 'w' },
        w: { type: 'wait', seconds: 5, next: 'f' },
        f: { type: 'fail', error: 'E' },
      },
    };

    // Act
    const { asl, json } = compiled(def);

    // Assess
    expect(asl).toStrictEqual(JSON.parse(json));
    expect(json).toContain('"args":{"alpha":"x","zeta":{"a":[3,1,2],"b":1}}');
    expect(Object.keys(asl)).toEqual(['Comment', 'StartAt', 'States']);
    expect(Object.keys(asl.States.t as AslObject)).toEqual([
      'Comment',
      'Next',
      'Parameters',
      'Resource',
      'ResultPath',
      'ResultSelector',
      'Retry',
      'Type',
    ]);
    expect(asl.States.f).toStrictEqual({ Type: 'Fail', Comment: comment('f', 'fail'), Error: 'E' });
  });

  it('keeps a __proto__ key of tool args as a key, not as the prototype', () => {
    // Prepare: compiled without validation, which would refuse the key.
    const args = JSON.parse('{"__proto__": {"polluted": true}, "q": 1}') as Record<string, JsonValue>;
    const def = {
      name: 'proto',
      startAt: 't',
      steps: { t: { type: 'tool', toolId: 'weather', args, end: true } },
    } as WorkflowDefinition;

    // Act
    const { asl, json } = compileWorkflow(def, compileOptions);

    // Assess
    expect(json).toContain('"args":{"__proto__":{"polluted":true},"q":1}');
    const payload = (asl.States.t as { Parameters: { Payload: { args: object } } }).Parameters.Payload;
    expect(Object.getPrototypeOf(payload.args)).toBe(Object.prototype);
    expect(Object.keys(payload.args)).toEqual(['__proto__', 'q']);
  });
});

describe('map iterators', () => {
  it('select $.steps as the output of exactly the states that end an iteration', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'ends',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'ask',
            steps: {
              ask: { type: 'agent', agentId: 'writer', prompt: '{{item}}', next: 'nap' },
              nap: { type: 'wait', seconds: 1, next: 'gate' },
              gate: {
                type: 'choice',
                choices: [{ when: { path: 'steps.ask.output.text', equals: 'ok' }, next: 'done' }],
                default: 'log',
              },
              log: {
                type: 'tool',
                toolId: 'search',
                args: {},
                catch: [{ errors: ['States.ALL'], next: 'bad' }],
                end: true,
              },
              done: { type: 'succeed' },
              bad: { type: 'fail', error: 'Bad' },
            },
          },
          end: true,
        },
      },
    };

    // Act
    const states = iteratorStates(compiled(def).asl.States, 'each');

    // Assess
    const outputs = Object.fromEntries(Object.entries(states).map(([id, s]) => [id, s.OutputPath]));
    expect(outputs).toStrictEqual({
      ask: undefined,
      nap: undefined,
      gate: undefined,
      log: '$.steps',
      done: '$.steps',
      bad: undefined,
    });
    expect(states.nap).toStrictEqual({
      Type: 'Wait',
      Comment: comment('nap', 'wait'),
      Seconds: 1,
      Next: 'gate',
    });
    expect(states.done).toStrictEqual({
      Type: 'Succeed',
      Comment: comment('done', 'succeed'),
      OutputPath: '$.steps',
    });
    expect(states.gate).toStrictEqual({
      Type: 'Choice',
      Comment: comment('gate', 'choice'),
      Choices: [
        {
          And: [
            { Variable: '$.steps.ask.output.text', IsPresent: true },
            { Variable: '$.steps.ask.output.text', IsString: true },
            { Variable: '$.steps.ask.output.text', StringEquals: 'ok' },
          ],
          Next: 'done',
        },
      ],
      Default: 'log',
    });
    expect(states.log?.Catch).toStrictEqual([
      { ErrorEquals: ['States.ALL'], Next: 'bad', ResultPath: '$.steps.log.error' },
    ]);
  });

  it('read the steps before the map through $.outer, and nest: an inner map merges outer and own steps', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'nested',
      startAt: 'first',
      steps: {
        first: { type: 'agent', agentId: 'writer', prompt: 'p', next: 'outer' },
        outer: {
          type: 'map',
          itemsPath: 'steps.first.output.groups',
          iterator: {
            startAt: 'pick',
            steps: {
              pick: { type: 'agent', agentId: 'classifier', prompt: '{{item}}', next: 'inner' },
              inner: {
                type: 'map',
                itemsPath: 'steps.pick.output.list',
                maxConcurrency: 2,
                iterator: {
                  startAt: 'route',
                  steps: {
                    route: {
                      type: 'choice',
                      choices: [
                        { when: { path: 'steps.first.output.n', greaterThan: 1 }, next: 'inItem' },
                        { when: { path: 'steps.pick.output.text', lessThan: 'm' }, next: 'inItem' },
                      ],
                      default: 'inItem',
                    },
                    inItem: {
                      type: 'map',
                      itemsPath: 'item.parts',
                      iterator: { startAt: 'leaf', steps: { leaf: { type: 'succeed' } } },
                      end: true,
                    },
                  },
                },
                end: true,
              },
            },
          },
          end: true,
        },
      },
    };

    // Act
    const { asl } = compiled(def);

    // Assess
    const outer = asl.States.outer as AslObject;
    expect(outer.ItemsPath).toBe('$.steps.first.output.groups');
    expect((outer.ItemSelector as AslObject)['outer.$']).toBe('$.steps');
    const inner = iteratorStates(asl.States, 'outer').inner as AslObject;
    expect(inner.ItemsPath).toBe('$.steps.pick.output.list');
    expect(inner.MaxConcurrency).toBe(2);
    expect(inner.ItemSelector).toStrictEqual({
      'input.$': '$.input',
      'outer.$': 'States.JsonMerge($.outer, $.steps, false)',
      steps: {},
      'item.$': '$$.Map.Item.Value',
      'index.$': '$$.Map.Item.Index',
      'context.$': '$.context',
    });
    expect(inner.ResultPath).toBe('$.steps.inner.output');
    expect(inner.OutputPath).toBe('$.steps');
    const innerStates = (inner.ItemProcessor as { States: Record<string, AslObject> }).States;
    const route = innerStates.route as { Choices: { And: { Variable: string }[] }[] };
    expect(route.Choices.map((c) => c.And[0]?.Variable)).toEqual([
      '$.outer.first.output.n',
      '$.outer.pick.output.text',
    ]);
    expect(innerStates.inItem?.ItemsPath).toBe('$.item.parts');
    expect(innerStates.inItem?.OutputPath).toBe('$.steps');
  });

  it('keep the iteration state through a parallel, whose branches read the iteration’s steps', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'branches',
      startAt: 'each',
      steps: {
        each: {
          type: 'map',
          itemsPath: 'input.items',
          iterator: {
            startAt: 'ask',
            steps: {
              ask: { type: 'agent', agentId: 'writer', prompt: '{{item}}', next: 'fan' },
              fan: {
                type: 'parallel',
                branches: [
                  {
                    startAt: 'check',
                    steps: {
                      check: {
                        type: 'choice',
                        choices: [{ when: { path: 'steps.ask.output.ok', equals: true }, next: 'yes' }],
                        default: 'yes',
                      },
                      yes: { type: 'succeed' },
                    },
                  },
                ],
                next: 'after',
              },
              after: { type: 'succeed' },
            },
          },
          end: true,
        },
      },
    };

    // Act
    const states = iteratorStates(compiled(def).asl.States, 'each');

    // Assess
    const fan = states.fan as {
      Branches: { States: Record<string, AslObject> }[];
      ResultSelector: AslObject;
    };
    const check = fan.Branches[0]?.States.check as { Choices: { And: { Variable: string }[] }[] };
    expect(check.Choices[0]?.And[0]?.Variable).toBe('$.steps.ask.output.ok');
    expect(fan.Branches[0]?.States.yes).toStrictEqual({
      Type: 'Succeed',
      Comment: comment('yes', 'succeed'),
    });
    expect(fan.ResultSelector).toStrictEqual({
      'input.$': '$[0].input',
      'steps.$': '$[0].steps',
      'context.$': '$[0].context',
      'outer.$': '$[0].outer',
      'item.$': '$[0].item',
      'index.$': '$[0].index',
    });
    expect(states.fan?.OutputPath).toBeUndefined();
    expect(states.after?.OutputPath).toBe('$.steps');
  });
});

describe('missing pins', () => {
  it('names each step without a pinned version, inside branches and iterators too', () => {
    // Prepare
    const def = validateWorkflow(
      {
        name: 'pins',
        startAt: 'p',
        steps: {
          p: {
            type: 'parallel',
            branches: [
              { startAt: 'ok', steps: { ok: { type: 'tool', toolId: 'weather', args: {}, end: true } } },
              { startAt: 's', steps: { s: { type: 'tool', toolId: 'search', args: {}, end: true } } },
            ],
            next: 'm',
          },
          m: {
            type: 'map',
            itemsPath: 'input.items',
            iterator: {
              startAt: 'c',
              steps: { c: { type: 'agent', agentId: 'classifier', prompt: 'x', end: true } },
            },
            end: true,
          },
        },
      },
      catalog,
    );
    const options = { ...compileOptions, pins: { agents: { writer: 3 }, tools: { weather: 2 } } };

    // Act
    let error: unknown;
    try {
      compileWorkflow(def, options);
    } catch (e) {
      error = e;
    }

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(
      'The workflow uses agents or tools without a pinned version.',
    );
    expect((error as ValidationError).problems).toEqual([
      { path: 'steps.p.branches.1.steps.s.toolId', message: 'no pinned version for tool search' },
      { path: 'steps.m.iterator.steps.c.agentId', message: 'no pinned version for agent classifier' },
    ]);
  });
});

describe('data paths the validator did not check', () => {
  it('refuses an itemsPath that does not parse with a ValidationError naming it', () => {
    // Prepare: compiled without validation.
    const def = {
      name: 'bad',
      startAt: 'm',
      steps: {
        m: {
          type: 'map',
          itemsPath: 'nowhere.items',
          iterator: { startAt: 'x', steps: { x: { type: 'succeed' } } },
          end: true,
        },
      },
    } as WorkflowDefinition;

    // Act
    const problems = problemsOf(() => compileWorkflow(def, compileOptions));
    const act = () => compileWorkflow(def, compileOptions);

    // Assess
    expect(act).toThrow('Invalid data path nowhere.items');
    expect(problems).toEqual([{ path: 'nowhere.items', message: expect.stringContaining('nowhere') }]);
  });
});

describe('compiled size', () => {
  /** A fail step whose cause pads the compiled JSON to `size` bytes. */
  function failOfSize(size: number): WorkflowDefinition {
    const def = (cause: string): WorkflowDefinition => ({
      name: 'big',
      startAt: 'no',
      steps: { no: { type: 'fail', error: 'E', cause } },
    });
    const base = new TextEncoder().encode(compileWorkflow(def(''), compileOptions).json).byteLength;
    return def('x'.repeat(size - base));
  }

  it('accepts exactly 1 MiB of ASL and refuses one byte more, saying how large it is', () => {
    // Act
    const fits = compileWorkflow(failOfSize(MAX_ASL_BYTES), compileOptions);
    const act = () => compileWorkflow(failOfSize(MAX_ASL_BYTES + 1), compileOptions);

    // Assess
    expect(MAX_ASL_BYTES).toBe(1024 * 1024);
    expect(fits.json.length).toBe(MAX_ASL_BYTES);
    expect(act).toThrow(PayloadTooLargeError);
    expect(act).toThrow(
      'The compiled state machine is 1048577 bytes; Step Functions accepts 1048576. Shorten prompts or args, or split the workflow.',
    );
  });

  it('counts UTF-8 bytes, not characters', () => {
    // Prepare: half the characters, each two bytes.
    const def = failOfSize(MAX_ASL_BYTES);
    const step = def.steps.no as { cause: string };
    const half = 'é'.repeat(step.cause.length / 2 + 1);

    // Act
    const act = () =>
      compileWorkflow({ ...def, steps: { no: { type: 'fail', error: 'E', cause: half } } }, compileOptions);

    // Assess
    expect(act).toThrow(PayloadTooLargeError);
  });
});

describe('countStates', () => {
  it('counts every state of the machine, its Parallel branches, Map processors and legacy iterators', () => {
    // Prepare
    const asl = {
      States: {
        a: { Iterator: { States: { x: {}, y: {} } } },
        b: 5,
        c: { Branches: [{ States: { z: {} } }, 'junk', { States: [{}, {}] }] },
        d: { ItemProcessor: { States: { q: { Branches: [{ States: { r: {} } }] } } } },
      },
    };

    // Act
    const count = countStates(asl);

    // Assess: a b c d, x y, z, q, r.
    expect(count).toBe(9);
  });

  it.each([null, 'x', [], { States: [{}, {}] }, { States: 'x' }, { Branches: [] }])(
    'counts no state in %j',
    (value) => {
      // Act
      const count = countStates(value);

      // Assess
      expect(count).toBe(0);
    },
  );
});

describe('retries', () => {
  it('retries only transient Lambda errors without a retry policy, and adds just maxAttempts when that is all it says', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'retries',
      startAt: 'a',
      steps: {
        a: { type: 'agent', agentId: 'writer', prompt: 'p', next: 'b' },
        b: {
          type: 'agent',
          agentId: 'writer',
          prompt: 'p',
          retry: { maxAttempts: 4, jitter: false },
          end: true,
        },
      },
    };

    // Act
    const { asl } = compiled(def);

    // Assess
    expect(LAMBDA_TRANSIENT_ERRORS).toEqual(LAMBDA_RETRIER.ErrorEquals);
    expect((asl.States.a as AslObject).Retry).toStrictEqual([LAMBDA_RETRIER]);
    expect((asl.States.b as AslObject).Retry).toStrictEqual([
      LAMBDA_RETRIER,
      { ErrorEquals: ['States.ALL'], MaxAttempts: 4 },
    ]);
    expect((asl.States.b as AslObject).TimeoutSeconds).toBeUndefined();
    expect((asl.States.b as AslObject).Catch).toBeUndefined();
  });
});

describe('approvals', () => {
  it('compile without approvers, message or timeout to empty lists and no requester approval, and catch', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'approve',
      startAt: 'ok',
      steps: {
        ok: { type: 'approval', catch: [{ errors: ['States.Timeout'], next: 'late' }], end: true },
        late: { type: 'fail', error: 'Late' },
      },
    };

    // Act
    const { asl } = compiled(def);

    // Assess
    expect(asl.States.ok).toStrictEqual({
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
          approvers: { roles: [], users: [] },
          allowRequesterApproval: false,
          'context.$': '$.context',
        },
      },
      ResultPath: '$.steps.ok',
      Retry: [LAMBDA_RETRIER],
      Catch: [{ ErrorEquals: ['States.Timeout'], Next: 'late', ResultPath: '$.steps.ok.error' }],
      End: true,
    });
  });

  it('call the approval handler and the step runner in their own partitions', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'two',
      startAt: 'a',
      steps: {
        a: { type: 'agent', agentId: 'writer', prompt: 'p', next: 'ok' },
        ok: { type: 'approval', end: true },
      },
    };
    const options = {
      ...compileOptions,
      stepRunnerArn: 'arn:aws-cn:lambda:cn-north-1:1:function:runner',
      approvalHandlerArn: 'arn:aws-us-gov:lambda:us-gov-west-1:1:function:approval',
    };

    // Act
    const { asl } = compileWorkflow(validateWorkflow(def, catalog), options);

    // Assess
    expect((asl.States.a as AslObject).Resource).toBe('arn:aws-cn:states:::lambda:invoke');
    expect((asl.States.ok as AslObject).Resource).toBe(
      'arn:aws-us-gov:states:::lambda:invoke.waitForTaskToken',
    );
    expect(STEP_RUNNER_ARN).not.toBe(options.stepRunnerArn);
  });
});

describe('partitionOf', () => {
  it.each(['aws:aws:lambda:us-east-1:1:function:f', 'arn::lambda:us-east-1:1:function:f', 'arn', ''])(
    'refuses %j, naming it',
    (arn) => {
      // Act
      const act = () => partitionOf(arn);

      // Assess
      expect(act).toThrow(`Not an ARN: ${arn}`);
    },
  );
});

describe('more corners', () => {
  it('names the aws partition’s Lambda integrations', () => {
    // Assess
    expect(LAMBDA_INVOKE).toBe('arn:aws:states:::lambda:invoke');
    expect(LAMBDA_INVOKE_WAIT).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  });

  it('keeps null values in args, and gives plain, writable data like JSON.parse', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'nulls',
      startAt: 't',
      steps: {
        t: { type: 'tool', toolId: 'weather', args: { none: null, list: [null, { b: null }] }, end: true },
      },
    };

    // Act
    const { asl, json } = compiled(def);

    // Assess
    expect(json).toContain('"args":{"list":[null,{"b":null}],"none":null}');
    for (const key of Object.keys(asl)) {
      expect(Object.getOwnPropertyDescriptor(asl, key)).toMatchObject({
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  });

  it('counts no nested state under a state that is null', () => {
    // Act
    const count = countStates({ States: { a: null, b: {} } });

    // Assess
    expect(count).toBe(2);
  });

  it('reads a branch step of the iteration after its parallel from the iteration’s own steps', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'after-branch',
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
                  {
                    startAt: 'x',
                    steps: { x: { type: 'agent', agentId: 'writer', prompt: 'p', end: true } },
                  },
                ],
                next: 'gate',
              },
              gate: {
                type: 'choice',
                choices: [{ when: { path: 'steps.x.output.ok', exists: true }, next: 'done' }],
                default: 'done',
              },
              done: { type: 'succeed' },
            },
          },
          end: true,
        },
      },
    };

    // Act
    const states = iteratorStates(compiled(def).asl.States, 'each');

    // Assess
    expect((states.gate?.Choices as AslObject[] | undefined)?.[0]).toStrictEqual({
      Variable: '$.steps.x.output.ok',
      IsPresent: true,
      Next: 'done',
    });
  });
});

describe('a choice without a default', () => {
  it('compiles to a Choice state without a Default key', () => {
    // Prepare
    const def: WorkflowDefinition = {
      name: 'no-default',
      startAt: 'c',
      steps: {
        c: { type: 'choice', choices: [{ when: { path: 'input.x', exists: true }, next: 'e' }] },
        e: { type: 'succeed' },
      },
    };

    // Act
    const { asl } = compiled(def);

    // Assess
    expect(Object.keys(asl.States.c as AslObject)).toEqual(['Choices', 'Comment', 'Type']);
  });
});

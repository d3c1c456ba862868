import { describe, expect, it } from 'vitest';
import { LocalEngine, TenantFenceError } from '#adapters/local-engine.ts';
import { ConflictError } from '#core/errors.ts';
import { recordStatus } from '#core/executions/status.ts';
import { LocalRuntime, nestedStateNames, unfinishedState } from '../../../../bin/local/runtime.ts';
import { anExecution } from '../../../helpers/executions.ts';

/**
 * The local runtime's redrive: the same ASL resumes at the top-level state that did not finish, and
 * inside it (Parallel, Map) only what did not succeed runs again — Step Functions' RedriveExecution.
 */

const TENANT = 'tabcdefghijklmnop';
const MACHINE = `arn:aws:states:local:000000000000:stateMachine:meridian-local-${TENANT}-wdef`;
const ENGINE_ARN = (name: string) => `${MACHINE.replace(':stateMachine:', ':execution:')}:${name}`;

interface StatusEvent {
  readonly detail: { status: string; output: string | null; error: string | null; redriveCount?: number };
}

const task = (fn: string, next?: string, extra: Record<string, unknown> = {}) => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::lambda:invoke',
  Parameters: { FunctionName: fn, Payload: { 'state.$': '$' } },
  ResultSelector: { 'output.$': '$.Payload' },
  ...extra,
  ...(next ? { Next: next } : { End: true }),
});

/** A runtime whose `flaky` function fails the first `failures` calls; counts every call by function. */
function harness(failures = 1) {
  const calls: Record<string, number> = {};
  const statuses: StatusEvent[] = [];
  let failed = 0;
  const count = (fn: string) => {
    calls[fn] = (calls[fn] ?? 0) + 1;
  };
  const runtime = new LocalRuntime({
    lambdas: {
      ok: async () => {
        count('ok');
        return { fine: true };
      },
      other: async () => {
        count('other');
        return { other: true };
      },
      flaky: async () => {
        count('flaky');
        if (failed < failures) {
          failed++;
          // Late enough that a sibling branch or iteration has succeeded when this one fails.
          await new Promise((resolve) => setTimeout(resolve, 20));
          const error = new Error('not yet');
          error.name = 'Tool.HttpError';
          throw error;
        }
        return { flaky: 'recovered' };
      },
    },
    onStatus: async (event) => {
      statuses.push(event as StatusEvent);
    },
    maxWaitMs: 0,
  });
  const settled = async (n: number) => {
    for (let i = 0; i < 200 && statuses.length < n; i++) await new Promise((r) => setTimeout(r, 5));
    return statuses[n - 1];
  };
  return { runtime, calls, statuses, settled };
}

async function start(runtime: LocalRuntime, name: string, asl: unknown) {
  return runtime.start({
    tenantId: TENANT,
    executionId: name,
    stateMachineArn: MACHINE,
    environment: 'dev',
    version: 1,
    asl: JSON.stringify(asl),
    state: { input: { a: 1 }, steps: {} } as never,
  });
}

describe('LocalRuntime.redrive', () => {
  it('resumes at the failed state with its input: earlier tasks do not run again', async () => {
    const { runtime, calls, settled } = harness();
    const asl = {
      StartAt: 'First',
      States: {
        First: task('ok', 'Second', { ResultPath: '$.steps.First' }),
        Second: task('flaky', undefined, { ResultPath: '$.steps.Second' }),
      },
    };
    const { engineArn } = await start(runtime, 'x1', asl);
    expect((await settled(1))?.detail).toMatchObject({ status: 'FAILED', error: 'Tool.HttpError' });

    await runtime.redrive({ tenantId: TENANT, executionId: 'x1', engineArn, redriveCount: 1 });
    const done = await settled(2);
    expect(done?.detail).toMatchObject({ status: 'SUCCEEDED', redriveCount: 1 });
    // The resumed state saw the input it had: First's output is still in the state.
    expect(JSON.parse(done?.detail.output ?? '{}')).toMatchObject({
      input: { a: 1 },
      steps: { First: { output: { fine: true } }, Second: { output: { flaky: 'recovered' } } },
    });
    expect(calls).toEqual({ ok: 1, flaky: 2 });
  });

  it('runs one redrive per redrive count, and refuses what it cannot resume', async () => {
    const { runtime, calls, settled } = harness(2);
    const asl = { StartAt: 'Only', States: { Only: task('flaky') } };
    const { engineArn } = await start(runtime, 'x2', asl);
    await settled(1);
    await runtime.redrive({ tenantId: TENANT, executionId: 'x2', engineArn, redriveCount: 1 });
    // Asked again for the same redrive (a retried request): nothing runs twice.
    await runtime.redrive({ tenantId: TENANT, executionId: 'x2', engineArn, redriveCount: 1 });
    expect((await settled(2))?.detail.status).toBe('FAILED');
    expect(calls.flaky).toBe(2);
    await runtime.redrive({ tenantId: TENANT, executionId: 'x2', engineArn, redriveCount: 2 });
    expect((await settled(3))?.detail).toMatchObject({ status: 'SUCCEEDED', redriveCount: 2 });
    expect(calls.flaky).toBe(3);
    // Succeeded now (nothing to resume), or never run by this runtime: a ConflictError, not a rerun.
    await expect(
      runtime.redrive({ tenantId: TENANT, executionId: 'x2', engineArn, redriveCount: 3 }),
    ).rejects.toBeInstanceOf(ConflictError);
    await expect(
      runtime.redrive({
        tenantId: TENANT,
        executionId: 'nope',
        engineArn: ENGINE_ARN('nope'),
        redriveCount: 1,
      }),
    ).rejects.toBeInstanceOf(ConflictError);
  });

  it('inside a Parallel state, only the failed branch runs again', async () => {
    const { runtime, calls, settled } = harness();
    const asl = {
      StartAt: 'Before',
      States: {
        Before: task('other', 'Both', { ResultPath: '$.before' }),
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'Left', States: { Left: task('ok') } },
            { StartAt: 'Right', States: { Right: task('flaky') } },
          ],
          End: true,
        },
      },
    };
    const { engineArn } = await start(runtime, 'x3', asl);
    expect((await settled(1))?.detail.status).toBe('FAILED');
    await runtime.redrive({ tenantId: TENANT, executionId: 'x3', engineArn, redriveCount: 1 });
    const done = await settled(2);
    expect(done?.detail.status).toBe('SUCCEEDED');
    expect(JSON.parse(done?.detail.output ?? '[]')).toEqual([
      { output: { fine: true } },
      { output: { flaky: 'recovered' } },
    ]);
    expect(calls).toEqual({ other: 1, ok: 1, flaky: 2 });
  });
});

describe('where a run stopped', () => {
  const top = new Set(['A', 'M', 'B']);
  const entered = (name: string, input: unknown, index?: number) => ({
    type: 'StateEntered',
    state: { name, input },
    ...(index !== undefined ? { index } : {}),
  });
  const exited = (name: string) => ({ type: 'StateExited', state: { name, input: null } });

  it('is the top-level state entered last and never exited; nested events do not count', () => {
    expect(
      unfinishedState(
        [entered('A', 1), exited('A'), entered('M', 2), entered('T', 3, 0), entered('A', 9, 1)],
        top,
      ),
    ).toEqual({ name: 'M', input: 2 });
  });

  it('is nothing when every entered state exited (a loop re-entering a state counts its last entry)', () => {
    expect(unfinishedState([entered('A', 1), exited('A')], top)).toBeUndefined();
    expect(unfinishedState([entered('A', 1), exited('A'), entered('A', 2)], top)).toEqual({
      name: 'A',
      input: 2,
    });
  });

  it('nested states are those of its branches and iterators, at any depth', () => {
    const asl = {
      States: {
        P: {
          Type: 'Parallel',
          Branches: [
            { States: { L: { Type: 'Pass' } } },
            {
              States: {
                M: { Type: 'Map', ItemProcessor: { States: { T: { Type: 'Task' } } } },
              },
            },
          ],
        },
        Q: { Type: 'Pass' },
      },
    };
    expect([...nestedStateNames(asl, 'P')].sort()).toEqual(['L', 'M', 'T']);
    expect(nestedStateNames(asl, 'Q').size).toBe(0);
  });
});

describe('recordStatus after a redrive', () => {
  const execution = anExecution({
    executionId: 'x9',
    startedAt: '2026-11-01T00:00:00.000Z',
    redriveCount: 1,
  });

  function deps() {
    const moves: string[] = [];
    const fake = {
      executions: {
        get: async () => execution,
        transition: async (_t: string, _x: string, _from: unknown, status: string) => {
          moves.push(status);
          return true;
        },
        release: async () => undefined,
      },
      approvals: { get: async () => undefined },
      now: () => new Date(),
    };
    return { moves, deps: fake as unknown as Parameters<typeof recordStatus>[0] };
  }

  it('ignores a late event of the run before the redrive, and records the redriven run’s end', async () => {
    const { moves, deps: d } = deps();
    const change = { tenantId: 'tabc', executionId: 'x9', at: '2026-11-02T00:00:00.000Z' } as const;
    const released: string[] = [];
    const release = async () => {
      released.push('slot');
    };
    expect(await recordStatus(d, { ...change, status: 'FAILED', error: 'X', redriveCount: 0 }, release)).toBe(
      false,
    );
    expect(moves).toEqual([]);
    // The redriven run holds the execution's run slot: a late event of the run before must not free it.
    expect(released).toEqual([]);
    expect(
      await recordStatus(d, { ...change, status: 'SUCCEEDED', output: '{}', redriveCount: 1 }, release),
    ).toBe(true);
    expect(released).toEqual(['slot']);
    // An event without a redrive count is taken as the latest run's.
    expect(await recordStatus(d, { ...change, status: 'FAILED', error: 'X' })).toBe(true);
    expect(moves).toEqual(['SUCCEEDED', 'FAILED']);
  });
});

// The local platform keeps tenants apart by the rule IAM applies on AWS (lib/constructs/tenant-data-role.ts):
// a call for one tenant on another tenant's machine or execution is refused.
describe('LocalRuntime refuses another tenant’s machines and executions', () => {
  const OTHER = 'totherxxxxxxxxxxx';
  it('starts, stops and redrives only for the tenant the machine is named for', async () => {
    const { runtime } = harness();
    const asl = { StartAt: 'Done', States: { Done: { Type: 'Succeed' } } };
    const { engineArn } = await start(runtime, 'x9', asl);
    const startInput = {
      tenantId: OTHER,
      executionId: 'x10',
      stateMachineArn: MACHINE,
      environment: 'dev' as const,
      version: 1,
      asl: JSON.stringify(asl),
      state: { input: {}, steps: {} } as never,
    };
    await expect(runtime.start(startInput)).rejects.toBeInstanceOf(TenantFenceError);
    await expect(runtime.stop({ tenantId: OTHER, engineArn, error: 'E', cause: 'c' })).rejects.toBeInstanceOf(
      TenantFenceError,
    );
    await expect(
      runtime.redrive({ tenantId: OTHER, executionId: 'x9', engineArn, redriveCount: 1 }),
    ).rejects.toBeInstanceOf(TenantFenceError);
    await expect(
      runtime.stop({ tenantId: TENANT, engineArn, error: 'E', cause: 'c' }),
    ).resolves.toBeUndefined();
  });

  it('refuses promoting or removing a machine of another tenant, or of none', async () => {
    const engine = new LocalEngine('meridian-local');
    await expect(
      engine.promote({ tenantId: OTHER, stateMachineArn: MACHINE, environment: 'prod' }),
    ).rejects.toBeInstanceOf(TenantFenceError);
    await expect(
      engine.remove({
        tenantId: TENANT,
        stateMachineArn: 'arn:aws:states:local:000000000000:stateMachine:orders',
      }),
    ).rejects.toBeInstanceOf(TenantFenceError);
    await expect(engine.remove({ tenantId: TENANT, stateMachineArn: MACHINE })).resolves.toBeUndefined();
  });
});

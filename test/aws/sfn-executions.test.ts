import { randomUUID } from 'node:crypto';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ExecutionLimitExceeded,
  ExecutionNotRedrivable,
  InvalidToken,
  RedriveExecutionCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { executionArnOf, SfnExecutionEngine } from '#adapters/sfn-executions.ts';
import { ConflictError, TransientError } from '#core/errors.ts';
import { sdkOptions } from '../helpers/moto.ts';

const ROLE =
  process.env.MERIDIAN_AWS_TEST_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-workflows';
// An approval-like state: it waits for a task token, so the execution stays RUNNING until stopped.
const WAITING_ASL = JSON.stringify({
  StartAt: 'Approve',
  States: {
    Approve: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: { FunctionName: 'approval-handler', Payload: { 'token.$': '$$.Task.Token' } },
      End: true,
    },
  },
});
const unique = (): string => randomUUID().replaceAll('-', '').slice(0, 16);

describe('SfnExecutionEngine against the AWS API (moto by default)', () => {
  const client = new SFNClient(sdkOptions(inject('awsEndpoint')));
  const engine = new SfnExecutionEngine(
    () => client,
    () => client,
  );

  async function runningExecution(): Promise<string> {
    const machine = await client.send(
      new CreateStateMachineCommand({
        name: `meridian-test-${unique()}`,
        definition: WAITING_ASL,
        roleArn: ROLE,
      }),
    );
    // moto cannot start through an alias ARN (the adapter's way, covered below at the SDK edge).
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: `e${unique()}` }),
    );
    if (!started.executionArn) throw new Error('no execution ARN');
    return started.executionArn;
  }

  it('stops a running execution (ABORTED)', async () => {
    const executionArn = await runningExecution();

    await engine.stop({
      tenantId: 'tabc',
      engineArn: executionArn,
      error: 'Meridian.Cancelled',
      cause: 'cancelled by admin-sub',
    });

    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.status).toBe('ABORTED');
  });

  it('stopping an execution that does not exist is not an error', async () => {
    const executionArn = await runningExecution();
    await expect(
      engine.stop({
        tenantId: 'tabc',
        engineArn: `${executionArn}-gone`,
        error: 'Meridian.Cancelled',
        cause: 'x',
      }),
    ).resolves.toBeUndefined();
  });

  it('the execution ARN of a named execution is the one Step Functions gives', async () => {
    const machine = await client.send(
      new CreateStateMachineCommand({
        name: `meridian-test-${unique()}`,
        definition: WAITING_ASL,
        roleArn: ROLE,
      }),
    );
    const name = `e${unique()}`;
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name }),
    );
    expect(executionArnOf(machine.stateMachineArn ?? '', name)).toBe(started.executionArn);
  });

  // moto 5.2 has no RedriveExecution (docs/emulators.md): against AWS itself, a failed execution is
  // redriven, and asking again for the same redrive is answered by its client token.
  it.runIf(!inject('awsIsMoto'))('redrives a failed execution, once per redrive count', async () => {
    const machine = await client.send(
      new CreateStateMachineCommand({
        name: `meridian-test-${unique()}`,
        definition: JSON.stringify({ StartAt: 'Boom', States: { Boom: { Type: 'Fail', Error: 'X' } } }),
        roleArn: ROLE,
      }),
    );
    const name = `e${unique()}`;
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name }),
    );
    const executionArn = started.executionArn ?? '';
    for (let i = 0; i < 50; i++) {
      const { status } = await client.send(new DescribeExecutionCommand({ executionArn }));
      if (status === 'FAILED') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await engine.redrive({ tenantId: 'tabc', executionId: name, engineArn: executionArn, redriveCount: 1 });
    await engine.redrive({ tenantId: 'tabc', executionId: name, engineArn: executionArn, redriveCount: 1 });
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(described.redriveCount).toBe(1);
  });

  it.runIf(inject('awsIsMoto'))('sends task success and failure through the real SDK', async () => {
    // moto accepts any token; what this proves is that both calls serialize and are accepted.
    await expect(engine.sendTaskSuccess('token-1', { decision: 'approve' })).resolves.toBeUndefined();
    await expect(engine.sendTaskFailure('token-2', 'Meridian.Rejected', 'rejected')).resolves.toBeUndefined();
  });
});

/** AWS behaviour moto does not have: starting through an alias ARN, and token errors. */
describe('SfnExecutionEngine with AWS answers moto does not give', () => {
  const edge = new SFNClient({ region: 'us-east-1' });
  const sfn = mockClient(edge);
  const engine = new SfnExecutionEngine(
    () => edge,
    () => edge,
  );
  const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-dev-tabc-wdef';
  afterEach(() => sfn.reset());
  type StartInput = Parameters<SfnExecutionEngine['start']>[0];
  const startInput = (executionId: string, environment: StartInput['environment']): StartInput => ({
    tenantId: 'tabc',
    executionId,
    stateMachineArn: MACHINE,
    environment,
    version: 3,
    asl: '{}',
    // The adapter passes the state through as JSON; its shape is the step runner's business.
    state: { input: { a: 1 }, steps: {} } as unknown as StartInput['state'],
  });

  it("starts on the environment's alias, named by the execution id", async () => {
    sfn.on(StartExecutionCommand).resolves({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:meridian-dev-tabc-wdef:x1',
      startDate: new Date(),
    });

    const out = await engine.start(startInput('x1', 'prod'));

    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({
      stateMachineArn: `${MACHINE}:prod`,
      name: 'x1',
      input: JSON.stringify({ input: { a: 1 }, steps: {} }),
    });
    expect(out.engineArn).toBe('arn:aws:states:us-east-1:123456789012:execution:meridian-dev-tabc-wdef:x1');
  });

  it('a retried start of the same execution returns its ARN', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    const out = await engine.start(startInput('x2', 'dev'));
    expect(out.engineArn).toBe(executionArnOf(MACHINE, 'x2'));
  });

  it.each([
    ['SendTaskSuccess', new TaskTimedOut({ message: 'timed out', $metadata: {} })],
    ['SendTaskFailure', new InvalidToken({ message: 'bad token', $metadata: {} })],
  ])('%s on a task that no longer waits is a ConflictError', async (call, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error);
    sfn.on(SendTaskFailureCommand).rejects(error);
    const send =
      call === 'SendTaskSuccess'
        ? engine.sendTaskSuccess('tok', { ok: true })
        : engine.sendTaskFailure('tok', 'Meridian.Rejected', 'no');
    await expect(send).rejects.toBeInstanceOf(ConflictError);
  });

  it('redrives by execution ARN with one client token per redrive', async () => {
    sfn.on(RedriveExecutionCommand).resolves({ redriveDate: new Date() });
    const engineArn = executionArnOf(MACHINE, 'x3');
    await engine.redrive({ tenantId: 'tabc', executionId: 'x3', engineArn, redriveCount: 2 });
    expect(sfn.commandCalls(RedriveExecutionCommand)[0]?.args[0].input).toEqual({
      executionArn: engineArn,
      clientToken: 'x3-redrive-2',
    });
  });

  it.each([
    ['not redrivable', new ExecutionNotRedrivable({ message: 'older than 14 days', $metadata: {} })],
    ['gone', new ExecutionDoesNotExist({ message: 'no such execution', $metadata: {} })],
  ])('a redrive Step Functions refuses (%s) is a ConflictError naming why', async (_why, error) => {
    sfn.on(RedriveExecutionCommand).rejects(error);
    const redrive = engine.redrive({
      tenantId: 'tabc',
      executionId: 'x4',
      engineArn: executionArnOf(MACHINE, 'x4'),
      redriveCount: 1,
    });
    await expect(redrive).rejects.toBeInstanceOf(ConflictError);
    await expect(redrive).rejects.toThrow(error.message);
  });

  it('the account at its running-executions limit is a TransientError (503, retry), other failures pass through', async () => {
    const redrive = () =>
      engine.redrive({
        tenantId: 'tabc',
        executionId: 'x5',
        engineArn: executionArnOf(MACHINE, 'x5'),
        redriveCount: 1,
      });
    sfn
      .on(RedriveExecutionCommand)
      .rejects(new ExecutionLimitExceeded({ message: 'too many', $metadata: {} }));
    await expect(redrive()).rejects.toBeInstanceOf(TransientError);
    const other = new Error('network down');
    sfn.on(RedriveExecutionCommand).rejects(other);
    await expect(redrive()).rejects.toBe(other);
  });

  it('sends the output as JSON and the error and cause as given', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    sfn.on(SendTaskFailureCommand).resolves({});
    await engine.sendTaskSuccess('tok', { decision: 'approve' });
    await engine.sendTaskFailure('tok2', 'Meridian.Rejected', 'rejected by x');
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok',
      output: '{"decision":"approve"}',
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)[0]?.args[0].input).toEqual({
      taskToken: 'tok2',
      error: 'Meridian.Rejected',
      cause: 'rejected by x',
    });
  });
});

describe('SfnExecutionEngine: tenant calls on the tenant client, approval answers on its own', () => {
  it('starts, stops and redrives through the client of the tenant named; task tokens through the own client', async () => {
    // Prepare: two clients, so each call shows which one carried it
    const tenantClient = new SFNClient({ region: 'us-east-1' });
    const ownClient = new SFNClient({ region: 'us-east-1' });
    const tenantSfn = mockClient(tenantClient);
    const ownSfn = mockClient(ownClient);
    tenantSfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    tenantSfn.on(StopExecutionCommand).resolves({});
    tenantSfn.on(RedriveExecutionCommand).resolves({});
    ownSfn.on(SendTaskSuccessCommand).resolves({});
    const asked: string[] = [];
    const engine = new SfnExecutionEngine(
      (tenant) => {
        asked.push(tenant);
        return tenantClient;
      },
      () => ownClient,
    );
    const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-dev-tabc-wdef';
    try {
      // Act
      await engine.start({
        tenantId: 'tabc',
        executionId: 'x1',
        stateMachineArn: MACHINE,
        environment: 'prod',
        version: 1,
        asl: '{}',
        state: { input: {}, steps: {} } as unknown as Parameters<SfnExecutionEngine['start']>[0]['state'],
      });
      await engine.stop({ tenantId: 'tabc', engineArn: 'arn:x', error: 'E', cause: 'c' });
      await engine.redrive({ tenantId: 'tabc', executionId: 'x1', engineArn: 'arn:x', redriveCount: 1 });
      await engine.sendTaskSuccess('token', { ok: true });
      // Assess
      expect(asked).toEqual(['tabc', 'tabc', 'tabc']);
      expect(tenantSfn.calls().map((c) => c.args[0].constructor.name)).toEqual([
        'StartExecutionCommand',
        'StopExecutionCommand',
        'RedriveExecutionCommand',
      ]);
      expect(ownSfn.calls().map((c) => c.args[0].constructor.name)).toEqual(['SendTaskSuccessCommand']);
    } finally {
      tenantSfn.restore();
      ownSfn.restore();
    }
  });
});

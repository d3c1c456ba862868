import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  CreateStateMachineAliasCommand,
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DeleteStateMachineVersionCommand,
  DescribeStateMachineAliasCommand,
  DescribeStateMachineCommand,
  ListStateMachineAliasesCommand,
  ListStateMachineVersionsCommand,
  ListTagsForResourceCommand,
  ResourceNotFound,
  SFNClient,
  SFNServiceException,
  StateMachineAlreadyExists,
  StateMachineDoesNotExist,
  UpdateStateMachineAliasCommand,
  UpdateStateMachineCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { KEEP_RECENT_VERSIONS, SfnEngine } from '#adapters/sfn-engine.ts';
import { sdkOptions } from '../helpers/moto.ts';

const SETTINGS = {
  namePrefix: 'meridian-test',
  // moto does not check that the role exists; against AWS set MERIDIAN_AWS_TEST_ROLE_ARN.
  roleArn: process.env.MERIDIAN_AWS_TEST_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-workflows',
  logGroupArn:
    process.env.MERIDIAN_AWS_TEST_LOG_GROUP_ARN ??
    'arn:aws:logs:us-east-1:123456789012:log-group:/meridian/test/workflows:*',
};
const asl = (comment: string): string =>
  JSON.stringify({ Comment: comment, StartAt: 'Done', States: { Done: { Type: 'Succeed' } } });
const id = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 16)}`;

describe('SfnEngine against the AWS API (moto by default)', () => {
  const client = new SFNClient(sdkOptions(inject('awsEndpoint')));
  const engine = new SfnEngine(() => client, SETTINGS);

  it('creates one state machine per workflow, named and tagged with tenant and workflow', async () => {
    const tenantId = id('t');
    const workflowId = id('w');

    const published = await engine.publish({ tenantId, workflowId, version: 1, asl: asl('v1') });

    expect(published.stateMachineArn).toMatch(
      new RegExp(`:stateMachine:meridian-test-${tenantId}-${workflowId}$`),
    );
    expect(published.versionArn).toBe(`${published.stateMachineArn}:1`);
    const tags = await client.send(
      new ListTagsForResourceCommand({ resourceArn: published.stateMachineArn }),
    );
    expect(tags.tags).toEqual(
      expect.arrayContaining([
        { key: 'TenantId', value: tenantId },
        { key: 'WorkflowId', value: workflowId },
      ]),
    );
  });

  it('publishes each saved version and moves the environment alias on promotion', async () => {
    const tenantId = id('t');
    const workflowId = id('w');
    const v1 = await engine.publish({ tenantId, workflowId, version: 1, asl: asl('v1') });
    const v2 = await engine.publish({
      tenantId,
      workflowId,
      version: 2,
      asl: asl('v2'),
      stateMachineArn: v1.stateMachineArn,
    });
    expect(v2.versionArn).toBe(`${v1.stateMachineArn}:2`);
    const latest = await client.send(
      new DescribeStateMachineCommand({ stateMachineArn: v1.stateMachineArn }),
    );
    expect(JSON.parse(latest.definition ?? '{}').Comment).toBe('v2');

    const promote = (versionArn: string) =>
      engine.promote({
        tenantId,
        workflowId,
        stateMachineArn: v1.stateMachineArn,
        environment: 'staging',
        versionArn,
      });
    const routing = async () =>
      (
        await client.send(
          new DescribeStateMachineAliasCommand({ stateMachineAliasArn: `${v1.stateMachineArn}:staging` }),
        )
      ).routingConfiguration;

    await promote(v1.versionArn);
    expect(await routing()).toEqual([{ stateMachineVersionArn: v1.versionArn, weight: 100 }]);
    await promote(v2.versionArn);
    expect(await routing()).toEqual([{ stateMachineVersionArn: v2.versionArn, weight: 100 }]);
  });

  it('deletes the state machine when the workflow is deleted, and a second delete is fine', async () => {
    const tenantId = id('t');
    const v1 = await engine.publish({ tenantId, workflowId: id('w'), version: 1, asl: asl('v1') });

    await engine.remove({ tenantId, stateMachineArn: v1.stateMachineArn });

    await expect(
      client.send(new DescribeStateMachineCommand({ stateMachineArn: v1.stateMachineArn })),
    ).rejects.toBeInstanceOf(StateMachineDoesNotExist);
    await expect(engine.remove({ tenantId, stateMachineArn: v1.stateMachineArn })).resolves.toBeUndefined();
  });
});

/** moto 5.2 has no ListStateMachineVersions or DeleteStateMachineVersion: AWS's answers at the SDK edge. */
describe('SfnEngine version housekeeping with AWS answers moto does not give', () => {
  const edge = new SFNClient({ region: 'us-east-1' });
  const sfn = mockClient(edge);
  const engine = new SfnEngine(() => edge, SETTINGS);
  const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-test-tabc-wdef';
  const version = (n: number): string => `${MACHINE}:${n}`;
  afterEach(() => sfn.reset());

  function givenVersions(count: number, aliasedTo: number[]): void {
    // Listed newest first, two pages, as the service does.
    const all = Array.from({ length: count }, (_, i) => ({
      stateMachineVersionArn: version(count - i),
      creationDate: new Date(),
    }));
    sfn
      .on(ListStateMachineVersionsCommand, { stateMachineArn: MACHINE, nextToken: undefined })
      .resolves({ stateMachineVersions: all.slice(0, 5), nextToken: 'page2' })
      .on(ListStateMachineVersionsCommand, { stateMachineArn: MACHINE, nextToken: 'page2' })
      .resolves({ stateMachineVersions: all.slice(5) });
    sfn.on(ListStateMachineAliasesCommand).resolves({
      stateMachineAliases: aliasedTo.map((_, i) => ({
        stateMachineAliasArn: `${MACHINE}:env${i}`,
        creationDate: new Date(),
      })),
    });
    aliasedTo.forEach((n, i) => {
      sfn
        .on(DescribeStateMachineAliasCommand, { stateMachineAliasArn: `${MACHINE}:env${i}` })
        .resolves({ routingConfiguration: [{ stateMachineVersionArn: version(n), weight: 100 }] });
    });
    sfn.on(DeleteStateMachineVersionCommand).resolves({});
  }

  const deletedVersions = (): string[] =>
    sfn
      .commandCalls(DeleteStateMachineVersionCommand)
      .map((c) => c.args[0].input.stateMachineVersionArn ?? '');

  it('a first publish retried after a partial failure updates the machine that exists', async () => {
    // Prepare: AWS refuses a second CreateStateMachine of the name with another definition (moto
    // returns the existing machine instead); the message names some ARN the engine must not trust
    sfn.on(CreateStateMachineCommand).rejects(
      new StateMachineAlreadyExists({
        message: "State Machine Already Exists: 'arn:aws:states:eu-west-1:999999999999:stateMachine:x'",
        $metadata: {},
      }),
    );
    sfn
      .on(UpdateStateMachineCommand)
      .resolves({ stateMachineVersionArn: version(2), updateDate: new Date() });
    // Act
    const published = await engine.publish({
      tenantId: 'tabc',
      workflowId: 'wdef',
      version: 1,
      asl: asl('v1'),
    });
    // Assess
    expect(published).toEqual({ stateMachineArn: MACHINE, versionArn: version(2) });
    expect(sfn.commandCalls(UpdateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: MACHINE,
      definition: asl('v1'),
    });
  });

  it(`deletes versions no alias points to beyond the newest ${KEEP_RECENT_VERSIONS}`, async () => {
    givenVersions(KEEP_RECENT_VERSIONS + 4, [1, 3]);

    const deleted = await engine.prune('tabc', MACHINE);

    expect(deleted.sort()).toEqual([version(2), version(4)].sort());
    expect(deletedVersions().sort()).toEqual([version(2), version(4)].sort());
  });

  it('deletes nothing while the newest versions are all there is', async () => {
    givenVersions(KEEP_RECENT_VERSIONS, []);
    expect(await engine.prune('tabc', MACHINE)).toEqual([]);
    expect(deletedVersions()).toEqual([]);
  });

  it('keeps a version an alias moved onto meanwhile (ConflictException)', async () => {
    givenVersions(KEEP_RECENT_VERSIONS + 2, []);
    sfn
      .on(DeleteStateMachineVersionCommand, { stateMachineVersionArn: version(1) })
      .rejects(new ConflictException({ message: 'aliased', $metadata: {} }));

    expect(await engine.prune('tabc', MACHINE)).toEqual([version(2)]);
  });

  it('prunes after publishing a new version', async () => {
    givenVersions(KEEP_RECENT_VERSIONS + 1, []);
    sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: version(KEEP_RECENT_VERSIONS + 1) });

    await engine.publish({
      tenantId: 'tabc',
      workflowId: 'wdef',
      version: 11,
      asl: asl('v'),
      stateMachineArn: MACHINE,
    });

    expect(deletedVersions()).toEqual([version(1)]);
  });

  it('a failing clean-up does not fail the publish', async () => {
    sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: version(2) });
    sfn.on(ListStateMachineVersionsCommand).rejects(new Error('throttled'));

    await expect(
      engine.publish({
        tenantId: 'tabc',
        workflowId: 'wdef',
        version: 2,
        asl: asl('v'),
        stateMachineArn: MACHINE,
      }),
    ).resolves.toEqual({ stateMachineArn: MACHINE, versionArn: version(2) });
  });

  it('promoting a retired version publishes its ASL again and points the alias there', async () => {
    const gone = () => new ResourceNotFound({ message: 'not found', $metadata: {} });
    sfn.on(UpdateStateMachineAliasCommand).rejects(gone());
    sfn.on(CreateStateMachineAliasCommand).rejectsOnce(gone()).resolves({});
    sfn.on(UpdateStateMachineCommand).resolves({ stateMachineVersionArn: version(15) });
    sfn.on(ListStateMachineVersionsCommand).resolves({ stateMachineVersions: [] });

    await engine.promote({
      tenantId: 'tabc',
      workflowId: 'wdef',
      stateMachineArn: MACHINE,
      environment: 'prod',
      versionArn: version(2),
      asl: asl('v2'),
    });

    expect(sfn.commandCalls(UpdateStateMachineCommand)[0]?.args[0].input).toMatchObject({
      stateMachineArn: MACHINE,
      definition: asl('v2'),
      publish: true,
    });
    expect(sfn.commandCalls(CreateStateMachineAliasCommand)[1]?.args[0].input).toEqual({
      name: 'prod',
      routingConfiguration: [{ stateMachineVersionArn: version(15), weight: 100 }],
    });
  });

  it('a missing version without its ASL is still an error', async () => {
    sfn.on(UpdateStateMachineAliasCommand).rejects(new ResourceNotFound({ message: 'x', $metadata: {} }));
    sfn.on(CreateStateMachineAliasCommand).rejects(new ResourceNotFound({ message: 'x', $metadata: {} }));

    await expect(
      engine.promote({
        tenantId: 'tabc',
        workflowId: 'wdef',
        stateMachineArn: MACHINE,
        environment: 'prod',
        versionArn: version(2),
      }),
    ).rejects.toBeInstanceOf(ResourceNotFound);
    expect(sfn.commandCalls(UpdateStateMachineCommand)).toHaveLength(0);
  });
});

/** Fault injection: an access denial, which moto never answers (it enforces no IAM). */
describe('SfnEngine.remove when Step Functions refuses the delete', () => {
  const edge = new SFNClient({ region: 'us-east-1' });
  const sfn = mockClient(edge);
  const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:meridian-test-tabc-wdef';
  const denied = () =>
    new SFNServiceException({
      name: 'AccessDeniedException',
      $fault: 'client',
      message: 'denied',
      $metadata: {},
    });
  afterEach(() => sfn.reset());

  it('throws for offboarding (strict), so its phase does not count a machine left behind', async () => {
    sfn.on(DeleteStateMachineCommand).rejects(denied());
    const strict = new SfnEngine(() => edge, { ...SETTINGS, strictRemove: true });

    await expect(strict.remove({ tenantId: 'tabc', stateMachineArn: MACHINE })).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('logs and returns for a deleted workflow, whose record is already gone', async () => {
    sfn.on(DeleteStateMachineCommand).rejects(denied());

    await expect(
      new SfnEngine(() => edge, SETTINGS).remove({ tenantId: 'tabc', stateMachineArn: MACHINE }),
    ).resolves.toBeUndefined();
  });
});

describe('SfnEngine acts for each tenant through that tenant client alone', () => {
  it("publishes, promotes and removes a workflow's machine on the client of the tenant it names", async () => {
    // Prepare: on AWS the client per tenant carries that tenant's fenced credentials
    const client = new SFNClient(sdkOptions(inject('awsEndpoint')));
    const asked: string[] = [];
    const engine = new SfnEngine((tenant) => {
      asked.push(tenant);
      return client;
    }, SETTINGS);
    const tenantId = id('t');
    const workflowId = id('w');
    // Act
    const v1 = await engine.publish({ tenantId, workflowId, version: 1, asl: asl('v1') });
    await engine.promote({
      tenantId,
      workflowId,
      stateMachineArn: v1.stateMachineArn,
      environment: 'prod',
      versionArn: v1.versionArn,
    });
    await engine.remove({ tenantId, stateMachineArn: v1.stateMachineArn });
    // Assess
    expect(asked.length).toBeGreaterThanOrEqual(3);
    expect(new Set(asked)).toEqual(new Set([tenantId]));
  });
});

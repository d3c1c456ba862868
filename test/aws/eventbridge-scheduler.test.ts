import { randomUUID } from 'node:crypto';
import {
  GetScheduleCommand,
  GetScheduleGroupCommand,
  ListSchedulesCommand,
  ListTagsForResourceCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { describe, expect, inject, it } from 'vitest';
import { EventBridgeScheduler } from '#adapters/eventbridge-scheduler.ts';
import type { Schedule } from '#core/schedules/schedules.ts';
import { sdkOptions } from '../helpers/moto.ts';

const SETTINGS = {
  groupPrefix: 'meridian-test',
  // moto checks neither; against AWS set both to a real function and a role that may invoke it.
  targetArn:
    process.env.MERIDIAN_AWS_TEST_FIRE_ARN ??
    'arn:aws:lambda:us-east-1:123456789012:function:meridian-test-schedule-fire',
  roleArn:
    process.env.MERIDIAN_AWS_TEST_SCHEDULER_ROLE_ARN ??
    'arn:aws:iam::123456789012:role/meridian-test-scheduler',
};
const id = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 16)}`;

function schedule(overrides: Partial<Schedule> = {}): Schedule {
  return {
    scheduleId: id('s'),
    workflowId: 'nightly-report',
    cron: '30 2 * * 1-5',
    timeZone: 'Europe/Berlin',
    input: { a: 1 },
    environment: 'prod',
    enabled: true,
    createdAt: new Date().toISOString(),
    createdBy: 'u1',
    ...overrides,
  };
}

describe('EventBridgeScheduler against the AWS API (moto by default)', () => {
  const client = new SchedulerClient(sdkOptions(inject('awsEndpoint')));
  const scheduler = new EventBridgeScheduler(client, SETTINGS);

  it('creates the tenant’s group on its first schedule, then one schedule per Meridian schedule', async () => {
    // Prepare
    const tenantId = id('t');
    const first = schedule();
    const second = schedule({ cron: '0 9 * * *', timeZone: 'America/New_York', enabled: false });
    // Act
    await scheduler.register(tenantId, first);
    await scheduler.register(tenantId, second);
    // Assess
    const group = await client.send(new GetScheduleGroupCommand({ Name: `meridian-test-${tenantId}` }));
    expect(group.State).toBe('ACTIVE');
    const tags = await client.send(new ListTagsForResourceCommand({ ResourceArn: group.Arn }));
    expect(tags.Tags).toEqual([{ Key: 'TenantId', Value: tenantId }]);
    const got = await client.send(
      new GetScheduleCommand({ Name: first.scheduleId, GroupName: `meridian-test-${tenantId}` }),
    );
    expect(got).toMatchObject({
      ScheduleExpression: 'cron(30 2 ? * 2-6 *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: SETTINGS.targetArn,
        RoleArn: SETTINGS.roleArn,
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 10 },
      },
    });
    // The fire function gets ids and the planned time only: never the input, which it reads itself.
    expect(JSON.parse(got.Target?.Input ?? '{}')).toEqual({
      tenantId,
      scheduleId: first.scheduleId,
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    const disabled = await client.send(
      new GetScheduleCommand({ Name: second.scheduleId, GroupName: `meridian-test-${tenantId}` }),
    );
    expect(disabled).toMatchObject({ ScheduleExpression: 'cron(0 9 * * ? *)', State: 'DISABLED' });
  });

  it('unregisters one schedule, and unregistering it again is not an error', async () => {
    // Prepare
    const tenantId = id('t');
    const kept = schedule();
    const gone = schedule();
    await scheduler.register(tenantId, kept);
    await scheduler.register(tenantId, gone);
    // Act
    await scheduler.unregister(tenantId, gone.scheduleId);
    await scheduler.unregister(tenantId, gone.scheduleId);
    // Assess
    const listed = await client.send(new ListSchedulesCommand({ GroupName: `meridian-test-${tenantId}` }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual([kept.scheduleId]);
  });

  it('deleteAllForTenant deletes the tenant’s group and leaves other tenants’ schedules', async () => {
    // Prepare
    const tenantId = id('t');
    const other = id('t');
    await scheduler.register(tenantId, schedule());
    await scheduler.register(other, schedule());
    // Act
    await scheduler.deleteAllForTenant(tenantId);
    await scheduler.deleteAllForTenant(tenantId);
    await scheduler.deleteAllForTenant(id('t'));
    // Assess
    await expect(
      client.send(new GetScheduleGroupCommand({ Name: `meridian-test-${tenantId}` })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);
    const others = await client.send(new ListSchedulesCommand({ GroupName: `meridian-test-${other}` }));
    expect(others.Schedules).toHaveLength(1);
  });
});

import { describe, expect, it } from 'vitest';
import { DELIVERY_MAX_RECEIVES } from '../../lib/constructs/notifications.ts';
import { actionsOf, logicalId, resource, roleStatements, synthStage } from '../helpers/synth.ts';

/** Notification delivery on AWS: queue, dead-letter queue, delivery function, SES sender. */
describe.each(['dev', 'prod'] as const)('notifications in %s', (stage) => {
  const { template, stack } = synthStage(stage, { notificationsFromEmail: 'notify@example.com' });
  const { notifications } = stack;
  const envOf = (fn: { function: Parameters<typeof logicalId>[1] }) =>
    (
      resource(template, logicalId(stack, fn.function)).Properties.Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;

  it('moves a message the delivery function keeps failing on to the dead-letter queue', () => {
    // Act
    const queue = resource(template, logicalId(stack, notifications.queue)).Properties;
    // Assess
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, notifications.deadLetterQueue), 'Arn'] },
      maxReceiveCount: DELIVERY_MAX_RECEIVES,
    });
    expect(queue.SqsManagedSseEnabled).toBe(true);
  });

  it('drives the delivery function from the queue, reporting failures per message', () => {
    // Act
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) =>
        JSON.stringify(m.Properties?.EventSourceArn) ===
        JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, notifications.queue), 'Arn'] }),
    );
    // Assess
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.Properties).toMatchObject({
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: logicalId(stack, notifications.deliveryFunction.function) },
    });
  });

  it('lets every event-raising function queue attempts, and only SendMessage', () => {
    // Prepare
    const publishers = [
      stack.api.apiFunction,
      stack.flows.stepRunner,
      stack.flows.approvalHandler,
      stack.flows.statusHandler,
    ];
    const queueArn = { 'Fn::GetAtt': [logicalId(stack, notifications.queue), 'Arn'] };
    for (const fn of publishers) {
      // Act
      const sqs = roleStatements(template, logicalId(stack, fn.role)).filter((s) =>
        actionsOf(s).some((a) => a.startsWith('sqs:')),
      );
      // Assess
      expect(envOf(fn).NOTIFICATION_QUEUE_URL).toEqual({ Ref: logicalId(stack, notifications.queue) });
      const onQueue = sqs.filter((s) =>
        [s.Resource].flat().some((r) => JSON.stringify(r) === JSON.stringify(queueArn)),
      );
      expect(onQueue.flatMap(actionsOf)).toEqual(['sqs:SendMessage']);
      expect(sqs.flatMap(actionsOf).filter((a) => a !== 'sqs:SendMessage')).toEqual([]);
    }
  });

  it('sends email only from the configured sender, and tells the function its queues and sender', () => {
    // Act
    const statements = roleStatements(template, logicalId(stack, notifications.deliveryFunction.role));
    const ses = statements.filter((s) => actionsOf(s).includes('ses:SendEmail'));
    const env = envOf(notifications.deliveryFunction);
    // Assess
    expect(ses).toHaveLength(1);
    expect(ses[0]?.Condition).toEqual({ StringEquals: { 'ses:FromAddress': 'notify@example.com' } });
    expect(env.NOTIFICATION_FROM_ADDRESS).toBe('notify@example.com');
    expect(env.NOTIFICATION_DLQ_URL).toEqual({ Ref: logicalId(stack, notifications.deadLetterQueue) });
    expect(env.TENANT_DATA_ROLE_ARN).toEqual({
      'Fn::GetAtt': [logicalId(stack, notifications.deliveryTenantRole), 'Arn'],
    });
  });
});

describe('notifications without a configured sender', () => {
  it('grant no SES permission and set no sender', () => {
    // Act
    const { template, stack } = synthStage('dev');
    const statements = roleStatements(template, logicalId(stack, stack.notifications.deliveryFunction.role));
    const env = (
      resource(template, logicalId(stack, stack.notifications.deliveryFunction.function)).Properties
        .Environment as { Variables: Record<string, unknown> }
    ).Variables;
    // Assess
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('ses:'))).toEqual([]);
    expect(env.NOTIFICATION_FROM_ADDRESS).toBeUndefined();
  });
});

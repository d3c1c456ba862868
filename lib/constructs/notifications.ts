import { ArnFormat, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { tenantItemGrants } from '../aws-calls.ts';
import { acknowledgeWildcardResource } from '../compliance.ts';
import type { FunctionSizing, StageName } from '../config.ts';
import { MeridianFunction } from './function.ts';
import { createTenantDataRole, tenantSecretsPrefix } from './tenant-data-role.ts';

/** Powertools service name of the delivery function. */
export const NOTIFICATION_SERVICE_NAME = 'meridian-notification-delivery';

/**
 * Receives before a message the delivery function keeps failing on (the table unreachable, not a
 * receiver's failure: those are retried by the code with backoff) moves to the dead-letter queue.
 */
export const DELIVERY_MAX_RECEIVES = 5;

/** Properties of {@link Notifications}. */
export interface NotificationsProps {
  readonly stage: StageName;
  readonly table: ITable;
  readonly deliveryFunction: FunctionSizing;
  /** The SES-verified sender; without one, the function gets no SES permission. */
  readonly fromEmail?: string;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Notification delivery: a queue of delivery attempts (each message names a tenant, a notification
 * and an attempt, never content) and of the budget alerts the step runner hands on to be fanned out
 * (a tenant, a month and figures: no personal data), the **delivery function** it drives (email through SES, Slack and
 * signed webhooks over HTTPS through the address guard), and a **dead-letter queue** for notifications
 * whose attempts ran out and for messages the function kept failing on. Functions that raise events
 * are bound with {@link bindPublisher}.
 */
export class Notifications extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly deliveryFunction: MeridianFunction;
  /** Role the delivery function assumes per tenant: that tenant's items and read-only secrets. */
  readonly deliveryTenantRole: Role;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    // Messages carry ids and budget figures only (no content, no addresses): SQS-managed encryption is enough.
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the dead-letter queue of notification delivery; operators inspect it (GET /notifications shows each one’s log) and nothing consumes it automatically.',
    });
    this.queue = new Queue(this, 'DeliveryQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Lambda's recommendation for an SQS source: six times the function timeout.
      visibilityTimeout: Duration.seconds(props.deliveryFunction.timeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: DELIVERY_MAX_RECEIVES },
    });

    this.deliveryFunction = new MeridianFunction(this, 'Delivery', {
      stage: props.stage,
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
      entry: 'functions/handlers/notification-delivery.ts',
      description: `Meridian notification delivery: email, Slack and signed webhooks (${props.stage})`,
      serviceName: NOTIFICATION_SERVICE_NAME,
      memorySize: props.deliveryFunction.memoryMb,
      timeout: props.deliveryFunction.timeout,
    }).bindTable(props.table, 'nameOnly');
    const secretsPrefix = tenantSecretsPrefix(props.stage);
    this.deliveryTenantRole = createTenantDataRole(this, 'DeliveryTenantRole', {
      table: props.table,
      secretsPrefix,
      // Webhook signing secrets and Slack URLs are read at delivery.
      secretAccess: 'read',
      itemGrants: tenantItemGrants('notificationDelivery'),
      trustedRole: this.deliveryFunction.role,
      description:
        'Assumed by the notification delivery function with session tag TenantId; that tenant items and read-only secrets',
    });
    this.deliveryFunction.bindTenantDataRole(this.deliveryTenantRole, secretsPrefix);
    const mapping = new EventSourceMapping(this, 'DeliverySource', {
      target: this.deliveryFunction.function,
      eventSourceArn: this.queue.queueArn,
      batchSize: 10,
      // A message the function fails on is retried alone, not with its whole batch.
      reportBatchItemFailures: true,
    });
    this.queue.grantConsumeMessages(this.deliveryFunction);
    Validations.of(mapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        'An SQS event source takes no on-failure destination: messages the function keeps failing on move to the queue’s dead-letter queue through its redrive policy (maxReceiveCount).',
    });
    Validations.of(this.deliveryFunction.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked only by its SQS event source: failed messages go to the source queue’s own dead-letter queue (redrive policy), where an asynchronous-invoke DLQ would never receive anything.',
    });
    this.bindPublisher(this.deliveryFunction);
    this.deliveryFunction.addEnvironment('NOTIFICATION_DLQ_URL', this.deadLetterQueue.queueUrl);
    this.deliveryFunction.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.deadLetterQueue.queueArn] }),
    );
    if (props.fromEmail) this.grantSend(props.fromEmail);
  }

  /**
   * Lets `fn` raise notification events: queue delivery attempts (`NOTIFICATION_QUEUE_URL`). The
   * function writes the notifications themselves through its tenant data role, except the step
   * runner, which queues its budget alerts for the delivery function to fan out.
   */
  bindPublisher(fn: MeridianFunction): this {
    fn.addEnvironment('NOTIFICATION_QUEUE_URL', this.queue.queueUrl);
    // SendMessage only (grantSendMessages would add GetQueueAttributes and GetQueueUrl, never called).
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.queue.queueArn] }),
    );
    return this;
  }

  // SendEmail from the one configured sender: any identity of the account may verify it (the
  // address or its domain), so the identity ARN is a wildcard fenced by ses:FromAddress.
  private grantSend(fromEmail: string): void {
    const identities = Stack.of(this).formatArn({
      service: 'ses',
      resource: 'identity',
      resourceName: '*',
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
    this.deliveryFunction.addToRolePolicy(
      new PolicyStatement({
        sid: 'SendNotificationEmail',
        actions: ['ses:SendEmail'],
        resources: [identities],
        conditions: { StringEquals: { 'ses:FromAddress': fromEmail } },
      }),
    );
    this.deliveryFunction.addEnvironment('NOTIFICATION_FROM_ADDRESS', fromEmail);
    acknowledgeWildcardResource(
      this.deliveryFunction.role,
      identities,
      'SES authorizes SendEmail against the verified identity (an address or its domain), which the operator chooses; the statement is fenced to the one configured sender by ses:FromAddress.',
    );
  }
}

import { Duration, RemovalPolicy as Removal, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { PLATFORM_ITEMS } from '../aws-calls.ts';
import { acknowledgeResourceStar, acknowledgeWildcardResource } from '../compliance.ts';
import type { StageName } from '../config.ts';
import { MeridianFunction } from './function.ts';
import { AUDIT_ARCHIVE_PREFIXES } from './tenant-data-role.ts';

/** Properties of {@link AuditStream}. */
export interface AuditStreamProps {
  readonly stage: StageName;
  /** The single table; its stream carries every new audit record. */
  readonly table: ITable;
  /** The Object Lock archive bucket (lib/constructs/audit-archive.ts). */
  readonly auditBucket: IBucket;
  /**
   * At most this long between a tenant's digests: the event source's batching window.
   * @default 60 seconds
   */
  readonly digestInterval?: Duration;
  /**
   * Days an audit record stays in the table once its digest is archived.
   * @default 30
   */
  readonly tableRetentionDays?: number;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The audit stream consumer: DynamoDB Streams → Lambda (functions/handlers/audit-stream.ts), filtered
 * to inserted audit records, one batch at a time per shard so a tenant's digests stay in order. It
 * writes JSONL and signed digests to the archive bucket, where the bucket's default Object Lock
 * retention (COMPLIANCE) applies, and signs with an asymmetric KMS key (ECC_NIST_P256).
 *
 * The consumer is the one platform-level function that handles every tenant's records: a batch mixes
 * tenants, and assuming a tenant data role per tenant per batch would cost an STS call each. Its own
 * role is fenced narrowly instead (lib/aws-calls.ts, proven by test/infra/iam-fence.test.ts): items
 * only in audit partitions `TENANT#<t>#AUDIT` (Query, PutItem, UpdateItem; no other partition, no
 * Scan), objects only PutObject under `records/tenant=` and `digests/tenant=` (no read, delete,
 * retention or legal-hold change), kms:Sign on the signing key only, and kms:Decrypt on the table key
 * only as reading its encrypted stream needs.
 */
export class AuditStream extends Construct {
  readonly consumer: MeridianFunction;
  /** The digest signing key; its public key is served at `GET /audit/public-key`. */
  readonly signingKey: Key;
  /** Days a record stays in the table once archived (`AUDIT_TABLE_RETENTION_DAYS`). */
  readonly tableRetentionDays: number;
  /** Batches that still failed after every retry (their records stay in the table, undigested). */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: AuditStreamProps) {
    super(scope, id);
    const interval = props.digestInterval ?? Duration.seconds(60);
    const seconds = interval.toSeconds();
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 300) {
      throw new Error(
        `${this.node.path}: digestInterval must be 1 to 300 whole seconds, received ${seconds}`,
      );
    }
    const retentionDays = props.tableRetentionDays ?? 30;
    this.tableRetentionDays = retentionDays;

    this.signingKey = new Key(this, 'SigningKey', {
      description: 'Meridian audit digest signing (ECDSA P-256)',
      keySpec: KeySpec.ECC_NIST_P256,
      keyUsage: KeyUsage.SIGN_VERIFY,
      // Digests signed by it stay in the archive for years: the key that verifies them must outlive the stack.
      removalPolicy: Removal.RETAIN,
    });

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself a dead-letter destination: the on-failure destination of the audit stream event source mapping, which cdk-nag does not recognise as a DLQ use.',
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is itself the on-failure destination of the audit stream; nothing consumes it automatically, so there is no failed consumer to redrive from (its messages name the stream positions to replay).',
    });

    this.consumer = new MeridianFunction(this, 'Consumer', {
      stage: props.stage,
      entry: 'functions/handlers/audit-stream.ts',
      description: `Meridian audit stream consumer: archive and signed digests (${props.stage})`,
      serviceName: 'meridian-audit-stream',
      memorySize: 512,
      timeout: Duration.minutes(2),
      logRetention: props.logRetention,
      logRemovalPolicy: props.removalPolicy,
    })
      // Audit partitions only: the digest index beside the records, and the TTL it sets on them.
      .bindTable(props.table, 'nameOnly')
      .bindPlatformItems(props.table, [PLATFORM_ITEMS.auditPartitions])
      .bindAuditBucket(props.auditBucket, 'nameOnly')
      .addEnvironment('AUDIT_SIGNING_KEY_ARN', this.signingKey.keyArn)
      .addEnvironment('AUDIT_DIGEST_INTERVAL_SECONDS', String(seconds))
      .addEnvironment('AUDIT_TABLE_RETENTION_DAYS', String(retentionDays))
      .addToRolePolicy(new PolicyStatement({ actions: ['kms:Sign'], resources: [this.signingKey.keyArn] }));
    // New archive objects only, under the two archive prefixes: the bucket's default Object Lock
    // retention applies without s3:PutObjectRetention, and nothing is read back or deleted.
    const archiveObjects = Object.values(AUDIT_ARCHIVE_PREFIXES).map((prefix) =>
      props.auditBucket.arnForObjects(`${prefix}*`),
    );
    this.consumer.addToRolePolicy(
      new PolicyStatement({ sid: 'ArchiveWrites', actions: ['s3:PutObject'], resources: archiveObjects }),
    );
    const archiveKey = props.auditBucket.encryptionKey;
    if (archiveKey) {
      this.consumer.addToRolePolicy(
        new PolicyStatement({
          sid: 'ArchiveKeyThroughS3',
          // A single-part PutObject needs a data key only; the consumer never reads an object.
          actions: ['kms:GenerateDataKey'],
          resources: [archiveKey.keyArn],
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    for (const objects of archiveObjects) {
      acknowledgeWildcardResource(
        this.consumer.role,
        objects,
        "The stream consumer archives every tenant's audit records and digests (one batch holds many tenants); object keys are made per tenant, hour and digest number at run time. The wildcard is limited to this archive prefix of this one bucket and to PutObject; Object Lock keeps written objects immutable.",
      );
    }

    this.consumer.function.addEventSource(
      new DynamoEventSource(props.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 1000,
        maxBatchingWindow: interval,
        // One batch per shard at a time: a tenant's digests are made in order.
        parallelizationFactor: 1,
        // Retried whole until it succeeds or the stream's 24 h expire; archiving is idempotent.
        retryAttempts: 10_000,
        bisectBatchOnError: false,
        onFailure: new SqsDlq(this.deadLetterQueue),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { type: { S: FilterRule.isEqual('audit') } } },
          }),
        ],
      }),
    );
    acknowledgeResourceStar(
      this.consumer.role,
      ['dynamodb:ListStreams'],
      'The stream event source mapping lists the table streams; dynamodb:ListStreams supports no resource-level permission (reading records is granted on this table stream ARN only).',
    );
    Validations.of(this.consumer.function).acknowledge({
      id: 'Serverless-LambdaDLQ',
      reason:
        'Invoked by a DynamoDB stream event source mapping: failed batches go to the mapping’s on-failure queue (DeadLetterQueue), not to an asynchronous-invocation DLQ.',
    });
  }

  /**
   * Lets the API serve the public key and verify digests, and tells it how long records stay in the
   * table (GET /audit says where older ones are): the consumer's own setting, so the two agree.
   */
  bindVerifier(fn: MeridianFunction): void {
    fn.addEnvironment('AUDIT_SIGNING_KEY_ARN', this.signingKey.keyArn)
      .addEnvironment('AUDIT_TABLE_RETENTION_DAYS', String(this.tableRetentionDays))
      .addToRolePolicy(
        new PolicyStatement({ actions: ['kms:GetPublicKey'], resources: [this.signingKey.keyArn] }),
      );
  }
}

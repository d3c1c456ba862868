import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type ITable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { RETENTION_CLASSES, RETENTION_TAG } from '#shared/retention-classes.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';

/** Item-level read actions; each is fenced by `dynamodb:LeadingKeys` when used with a condition. */
export const TABLE_ITEM_READ_ACTIONS: readonly string[] = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:GetItem',
  'dynamodb:Query',
];

/**
 * Item-level write actions. TransactWriteItems has no IAM action of its own: each of its operations
 * is authorized as the matching Put/Update/Delete/ConditionCheck item action.
 */
export const TABLE_ITEM_WRITE_ACTIONS: readonly string[] = [
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
];

/**
 * The table and its one index by exact ARN: no `index/*` wildcard, because the index name comes from
 * {@link TABLE_SCHEMA} like every other key name.
 */
export function tableResourceArns(table: ITable): string[] {
  return [table.tableArn, `${table.tableArn}/index/${TABLE_SCHEMA.gsi1.indexName}`];
}

/** KMS actions a caller of a table encrypted with a customer-managed key needs. */
export function tableKeyActions(access: 'read' | 'readWrite'): string[] {
  return access === 'read'
    ? ['kms:Decrypt', 'kms:DescribeKey']
    : ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
}

/** Properties of {@link Storage}. */
export interface StorageProps {
  /** Removal policy of the table and its key: RETAIN in prod, DESTROY allowed in dev. */
  readonly removalPolicy: RemovalPolicy;
  /** DynamoDB deletion protection (prod). */
  readonly deletionProtection: boolean;
  /** Bucket that receives the artifacts bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
  /** Days a non-current version of an artifact is kept before it expires. */
  readonly artifactsNoncurrentVersionDays: number;
}

/**
 * Meridian's data at rest: the single DynamoDB table, built only from {@link TABLE_SCHEMA} so the
 * CDK, the local platform and the runtime key module agree, and the artifacts bucket for step
 * outputs over the payload limit and exports.
 */
export class Storage extends Construct {
  /** The single table. */
  readonly table: Table;
  /** Customer-managed key of the table (and of its stream and backups). */
  readonly tableKey: Key;
  /** Bucket for large step outputs and exports. */
  readonly artifactsBucket: Bucket;
  /** Customer-managed key of the artifacts bucket. */
  readonly artifactsKey: Key;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    if (!Number.isInteger(props.artifactsNoncurrentVersionDays) || props.artifactsNoncurrentVersionDays < 1) {
      throw new Error(
        `${this.node.path}: artifactsNoncurrentVersionDays must be a whole number >= 1, received ${props.artifactsNoncurrentVersionDays}`,
      );
    }

    this.tableKey = new Key(this, 'TableKey', {
      description: 'Meridian single table (items, stream, backups)',
      enableKeyRotation: true,
      // Same lifetime as the table: a deleted key would make a retained table or its backups unreadable.
      removalPolicy: props.removalPolicy,
    });
    this.table = new Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.tableKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      deletionProtection: props.deletionProtection,
      removalPolicy: props.removalPolicy,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.gsi1.indexName,
      partitionKey: { name: TABLE_SCHEMA.gsi1.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.gsi1.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    this.artifactsKey = new Key(this, 'ArtifactsKey', {
      description: 'Meridian artifacts bucket (large step outputs, exports)',
      enableKeyRotation: true,
      // The bucket is always retained, so its key must be too.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.artifactsBucket = new Bucket(this, 'ArtifactsBucket', {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.artifactsKey,
      // One data key per bucket instead of a KMS call per object.
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: Duration.days(props.artifactsNoncurrentVersionDays),
          expiredObjectDeleteMarker: true,
          // An export interrupted midway (functions/adapters/s3-tenant-data.ts) holds the tenant's
          // data in parts no listing shows, erasure included: gone after a day, the least S3 allows.
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
        // Execution retention: an ended execution's artifacts carry the tenant's retention class
        // as a tag (functions/shared/retention-classes.ts), and expire that many days after they
        // were written; their noncurrent versions then go by the rule above.
        ...RETENTION_CLASSES.map((days) => ({
          id: `ExpireExecutionArtifacts${days}Days`,
          tagFilters: { [RETENTION_TAG]: String(days) },
          expiration: Duration.days(days),
        })),
      ],
      // Always retained: CloudFormation cannot delete a non-empty bucket, and emptying it needs the
      // auto-delete custom resource, a Lambda with broad S3 rights we would rather not deploy.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

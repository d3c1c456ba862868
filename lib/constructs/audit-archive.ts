import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectLockRetention,
  ObjectOwnership,
  StorageClass,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Properties of {@link AuditArchive}. */
export interface AuditArchiveProps {
  /**
   * Object Lock COMPLIANCE retention of every archived object, in days. Nobody, the root user
   * included, can delete or overwrite an object version before it ends, and it cannot be shortened.
   */
  readonly objectLockDays: number;
  /** Days after which archived objects (current and non-current) move to S3 Glacier Flexible Retrieval. */
  readonly glacierTransitionDays: number;
  /** Bucket that receives this bucket's S3 server access logs. */
  readonly accessLogsBucket: IBucket;
}

/**
 * The write-once audit archive: hash-chained audit batches exported from the table land here under
 * Object Lock in COMPLIANCE mode, so the trail survives even a compromised administrator account.
 */
export class AuditArchive extends Construct {
  /** The archive bucket. */
  readonly bucket: Bucket;
  /** Customer-managed key of the archive. */
  readonly key: Key;

  constructor(scope: Construct, id: string, props: AuditArchiveProps) {
    super(scope, id);
    for (const [name, days] of [
      ['objectLockDays', props.objectLockDays],
      ['glacierTransitionDays', props.glacierTransitionDays],
    ] as const) {
      if (!Number.isInteger(days) || days < 1) {
        throw new Error(`${this.node.path}: ${name} must be a whole number of days >= 1, received ${days}`);
      }
    }

    this.key = new Key(this, 'Key', {
      description: 'Meridian audit archive',
      enableKeyRotation: true,
      // Locked objects outlive the stack; the key that decrypts them must as well.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const transitionAfter = Duration.days(props.glacierTransitionDays);
    this.bucket = new Bucket(this, 'Bucket', {
      objectLockEnabled: true,
      objectLockDefaultRetention: ObjectLockRetention.compliance(Duration.days(props.objectLockDays)),
      versioned: true,
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: 'audit-archive/',
      lifecycleRules: [
        {
          id: 'ArchiveToGlacier',
          transitions: [{ storageClass: StorageClass.GLACIER, transitionAfter }],
          noncurrentVersionTransitions: [{ storageClass: StorageClass.GLACIER, transitionAfter }],
        },
      ],
      // Always retained, whatever the stage: an audit trail must outlive the stack that wrote it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

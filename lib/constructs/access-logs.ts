import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY } from 'aws-cdk-lib/cx-api';
import { Construct } from 'constructs';

/** Properties of {@link AccessLogs}. */
export interface AccessLogsProps {
  /** Days a server access log object is kept. */
  readonly expirationDays: number;
}

/**
 * The destination of S3 server access logs for Meridian's other buckets (artifacts, audit archive),
 * so every request to stored data can be traced back to a principal.
 */
export class AccessLogs extends Construct {
  /** The access-log bucket; pass it as `serverAccessLogsBucket`. */
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsProps) {
    super(scope, id);
    if (!Number.isInteger(props.expirationDays) || props.expirationDays < 1) {
      throw new Error(
        `${this.node.path}: expirationDays must be a whole number >= 1, received ${props.expirationDays}`,
      );
    }
    // Grant the S3 logging service through a bucket policy scoped to the source buckets instead of
    // the legacy LogDeliveryWrite ACL, which cannot coexist with BucketOwnerEnforced ownership.
    // Set here, before any child exists, so it holds whatever flags the app's cdk.json carries.
    this.node.setContext(S3_SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, true);

    this.bucket = new Bucket(this, 'Bucket', {
      // S3 server access logging only delivers to buckets encrypted with SSE-S3, not SSE-KMS.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(props.expirationDays) }],
      // Retained like the buckets it describes: logs outlive the stack for investigations.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

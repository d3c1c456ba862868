import { join } from 'node:path';
import { KMSClient } from '@aws-sdk/client-kms';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArchiverDeps } from '#core/audit/archiver.ts';
import type { DigestSigner } from '#core/audit/digest.ts';
import { auditBucket, auditDigests, ConfigError, config, core } from '#shared/config.ts';
import { tracer } from '#shared/observability.ts';
import { dynamoDocumentClient, s3Client } from '../aws-clients.ts';
import { DynamoDigestIndex } from '../dynamo/digest-index.ts';
import { Table } from '../dynamo/table.ts';
import { S3AuditArchive } from './s3-archive.ts';
import { KmsDigestSigner, LocalDigestSigner } from './signers.ts';

/** The audit stream consumer's settings: it archives to the audit bucket and signs digests. */
export const AUDIT_STREAM_SETTINGS = [core, auditBucket, auditDigests] as const;

let signer: Promise<DigestSigner> | undefined;

/** The digest signer: the KMS key on AWS, the local key file (in the state folder) otherwise. */
export function digestSigner(): Promise<DigestSigner> {
  const cfg = config([core, auditDigests]);
  // On AWS a key file would live in a read-only, short-lived container: only KMS signs there.
  if (cfg.MERIDIAN_MODE === 'aws' && !cfg.AUDIT_SIGNING_KEY_ARN)
    return Promise.reject(
      new ConfigError('AUDIT_SIGNING_KEY_ARN: required on AWS to sign and verify audit digests'),
    );
  signer ??= cfg.AUDIT_SIGNING_KEY_ARN
    ? Promise.resolve(
        new KmsDigestSigner(tracer.captureAWSv3Client(new KMSClient({})), cfg.AUDIT_SIGNING_KEY_ARN),
      )
    : LocalDigestSigner.open(join(cfg.MERIDIAN_STATE_DIR ?? '.', 'audit-signing-key.pem'));
  return signer;
}

/**
 * The archive bucket, through `s3`: the API passes its tenant-scoped client (on AWS fenced by IAM to
 * that tenant's digests); the stream consumer uses the function's own.
 */
export function auditArchive(s3: S3Client = s3Client()): S3AuditArchive {
  return new S3AuditArchive(s3, config([auditBucket]).AUDIT_BUCKET_NAME);
}

/** Everything the stream consumer needs. */
export async function archiverDeps(): Promise<ArchiverDeps> {
  const cfg = config(AUDIT_STREAM_SETTINGS);
  const db = dynamoDocumentClient();
  const table = new Table(cfg.TABLE_NAME, { platform: db, forTenant: async () => db });
  return {
    archive: auditArchive(),
    index: new DynamoDigestIndex(table, cfg.AUDIT_TABLE_RETENTION_DAYS * 86_400),
    signer: await digestSigner(),
    now: () => new Date(),
  };
}

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { archiverDeps } from '#adapters/audit/wiring.ts';
import { archiveRecords } from '#core/audit/archiver.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import type { Digest } from '#core/audit/digest.ts';
import { logger } from '#shared/observability.ts';

/** The audit records a stream batch inserted (other items and other events are not audit). */
export function auditRecordsOf(event: DynamoDBStreamEvent): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== 'INSERT' || !image) continue;
    const item = unmarshall(image as Record<string, AttributeValue>);
    if (item.type !== 'audit') continue;
    const { pk: _pk, sk: _sk, type: _type, expiresAt: _e, ...rest } = item;
    out.push(rest as AuditRecord);
  }
  return out;
}

/**
 * Consumer of the table's stream (DynamoDB Streams → Lambda on AWS; the local platform feeds it
 * DynamoDB Local's stream): archives new audit records as JSONL and signs a digest per tenant per
 * batch (the batching window is the digest interval). A failure fails the batch, which is retried
 * whole: archiving is idempotent (see functions/core/audit/archiver.ts).
 */
export async function handler(event: DynamoDBStreamEvent): Promise<{ digests: number }> {
  const records = auditRecordsOf(event);
  if (records.length === 0) return { digests: 0 };
  const digests: Digest[] = await archiveRecords(await archiverDeps(), records);
  logger.info('Audit records archived', { records: records.length, digests: digests.length });
  return { digests: digests.length };
}

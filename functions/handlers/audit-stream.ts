import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { archiverDeps } from '#adapters/audit/wiring.ts';
import { archiveRecords } from '#core/audit/archiver.ts';
import type { AuditRecord } from '#core/audit/audit.ts';
import type { Digest } from '#core/audit/digest.ts';
import { logger } from '#shared/observability.ts';

/**
 * DynamoDB Local's stream writes some attribute values as `{}` (no type), which `unmarshall` refuses;
 * they are read as null, so one odd value cannot stall the whole trail. The record's `hash` was taken
 * at write time from the record itself, so verification does not depend on this copy.
 */
function readable(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const fix = (value: AttributeValue): AttributeValue => {
    if (Object.keys(value).length === 0) return { NULL: true };
    if (value.M) return { M: readable(value.M) };
    if (value.L) return { L: value.L.map(fix) };
    return value;
  };
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, fix(v)]));
}

/** The audit records a stream batch inserted (other items and other events are not audit). */
export function auditRecordsOf(event: DynamoDBStreamEvent): AuditRecord[] {
  const out: AuditRecord[] = [];
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== 'INSERT' || !image) continue;
    // Judged on the raw image first: other items are not this consumer's to read, and one it cannot
    // unmarshal (DynamoDB Local's stream writes some attribute values as `{}`) must not fail the batch.
    if ((image as Record<string, AttributeValue>).type?.S !== 'audit') continue;
    const item = unmarshall(readable(image as Record<string, AttributeValue>));
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

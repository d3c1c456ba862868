/**
 * The local stand-in for DynamoDB Streams → Lambda: reads DynamoDB Local's stream of the table every
 * interval and hands each batch to the audit stream consumer (functions/handlers/audit-stream.ts),
 * as the event source mapping does on AWS. The position per shard is kept in the state folder, so a
 * restarted platform goes on where it stopped; a failed batch is read again on the next tick.
 */
import { createHash, createHmac } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SignatureV4 } from '@smithy/signature-v4';
import type { DynamoDBStreamEvent } from 'aws-lambda';

const bytes = (data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);

/** node:crypto as the signer's hash (the SDK's own hash package is not a dependency here). */
class NodeHash {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

interface StreamRecord {
  readonly eventName?: string;
  readonly dynamodb?: { readonly SequenceNumber?: string; readonly NewImage?: unknown };
}

/** A running stream reader. */
export interface AuditStream {
  /** Reads and hands over everything the stream holds now (what a tick does). */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

export async function startAuditStream(options: {
  readonly endpoint: string;
  readonly tableName: string;
  readonly stateDir: string;
  readonly intervalMs: number;
  readonly handler: (event: DynamoDBStreamEvent) => Promise<unknown>;
  readonly log?: (line: string) => void;
}): Promise<AuditStream> {
  const url = new URL(options.endpoint);
  const signer = new SignatureV4({ service: 'dynamodb', region: 'us-east-1', credentials, sha256: NodeHash });
  const call = async <T>(operation: string, body: unknown): Promise<T> => {
    const text = JSON.stringify(body);
    const request = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: '/',
      headers: {
        host: url.host,
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDBStreams_20120810.${operation}`,
      },
      body: text,
    });
    const response = await fetch(options.endpoint, {
      method: 'POST',
      headers: request.headers,
      body: text,
      signal: AbortSignal.timeout(10_000),
    });
    const answer = (await response.json()) as T;
    if (!response.ok) throw new Error(`${operation}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  const client = new DynamoDBClient({ endpoint: options.endpoint, region: 'us-east-1', credentials });
  const described = await client.send(new DescribeTableCommand({ TableName: options.tableName }));
  client.destroy();
  const streamArn = described.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`Table ${options.tableName} has no stream`);

  const checkpointFile = join(options.stateDir, 'audit-stream.json');
  let checkpoint: Record<string, string> = {};
  try {
    const saved = JSON.parse(await readFile(checkpointFile, 'utf8')) as {
      streamArn?: string;
      shards?: Record<string, string>;
    };
    if (saved.streamArn === streamArn) checkpoint = saved.shards ?? {};
  } catch {
    // No checkpoint yet: from the start of the stream.
  }
  const closed = new Set<string>();

  const readShard = async (shardId: string): Promise<{ records: StreamRecord[]; open: boolean }> => {
    const after = checkpoint[shardId];
    let { ShardIterator: iterator } = await call<{ ShardIterator?: string }>('GetShardIterator', {
      StreamArn: streamArn,
      ShardId: shardId,
      ShardIteratorType: after ? 'AFTER_SEQUENCE_NUMBER' : 'TRIM_HORIZON',
      ...(after ? { SequenceNumber: after } : {}),
    });
    const records: StreamRecord[] = [];
    while (iterator) {
      const page = await call<{ Records?: StreamRecord[]; NextShardIterator?: string }>('GetRecords', {
        ShardIterator: iterator,
        Limit: 1000,
      });
      records.push(...(page.Records ?? []));
      if ((page.Records ?? []).length === 0) return { records, open: page.NextShardIterator !== undefined };
      iterator = page.NextShardIterator;
    }
    return { records, open: false };
  };

  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<void> => {
    // DescribeStream answers at most 100 shards a page, and DynamoDB Local rolls shards often.
    const shards: { ShardId?: string }[] = [];
    let after: string | undefined;
    do {
      const page = await call<{
        StreamDescription?: { Shards?: { ShardId?: string }[]; LastEvaluatedShardId?: string };
      }>('DescribeStream', { StreamArn: streamArn, ...(after ? { ExclusiveStartShardId: after } : {}) });
      shards.push(...(page.StreamDescription?.Shards ?? []));
      after = page.StreamDescription?.LastEvaluatedShardId;
    } while (after);
    for (const shard of shards) {
      const shardId = shard.ShardId;
      if (!shardId || closed.has(shardId)) continue;
      const { records, open } = await readShard(shardId);
      if (records.length > 0) {
        await options.handler({ Records: records } as DynamoDBStreamEvent);
        const last = records[records.length - 1]?.dynamodb?.SequenceNumber;
        if (last) checkpoint[shardId] = last;
        await writeFile(checkpointFile, JSON.stringify({ streamArn, shards: checkpoint }));
      }
      if (!open) closed.add(shardId);
    }
  };
  // One tick at a time: drain() waits for the one under way, then runs its own.
  const drain = (): Promise<void> => {
    running = running.then(tick, tick);
    return running;
  };
  let busy = false;
  const timer = setInterval(() => {
    // A tick still under way (a large backlog) is not queued behind: the next interval picks up.
    if (busy) return;
    busy = true;
    drain()
      .catch((error: unknown) => options.log?.(`audit stream: ${String(error)}`))
      .finally(() => {
        busy = false;
      });
  }, options.intervalMs);
  timer.unref();
  return {
    drain,
    stop: async () => {
      clearInterval(timer);
      await running.catch(() => undefined);
    },
  };
}

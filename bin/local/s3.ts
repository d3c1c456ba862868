import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver listening in this process. */
export interface RunningS3 {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A client for s3rver: it accepts only the S3RVER/S3RVER credentials, needs path-style addressing on
 * 127.0.0.1 (not `localhost`), and corrupts streamed uploads unless checksums are only sent when
 * required (measured with s3rver 3.7: uploads read back altered otherwise).
 */
export function s3Client(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 1,
  });
}

/** Starts s3rver in-process on 127.0.0.1, keeping objects under `directory`. Port 0 picks one. */
export async function startS3(options: { port: number; directory: string }): Promise<RunningS3> {
  const directory = resolve(options.directory);
  await mkdir(directory, { recursive: true });
  const server = new S3rver({ port: options.port, address: '127.0.0.1', silent: true, directory });
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  let stopped = false;
  return {
    endpoint,
    port: address.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.close();
    },
  };
}

/** Creates each bucket that does not exist yet; resolves to the names created now. */
export async function ensureBuckets(endpoint: string, buckets: readonly string[]): Promise<string[]> {
  const client = s3Client(endpoint);
  try {
    const created: string[] = [];
    for (const bucket of buckets) {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        const missing =
          error instanceof NotFound ||
          (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404);
        if (!missing) throw error;
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
        created.push(bucket);
      }
    }
    return created;
  } finally {
    client.destroy();
  }
}

import { randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { SfnJobRunner } from '#adapters/job-runner.ts';
import { S3PrefixEraser, S3TenantFiles } from '#adapters/s3-tenant-data.ts';
import { executionEngine, workflowRemover } from '#adapters/wiring/step-functions.ts';
import { core, machines, parseConfig } from '#shared/config.ts';
import { lifecycleDefinition } from '#shared/lifecycle-asl.ts';
import { sdkOptions } from '../helpers/moto.ts';
import { fencedClients } from '../helpers/tenant-session.ts';

/** The lifecycle adapters against the AWS API (moto by default): versioned erasure, job starts. */

const ROLE =
  process.env.MERIDIAN_AWS_TEST_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/meridian-test-lifecycle';
const unique = (): string => randomUUID().replaceAll('-', '').slice(0, 16);
const tenant = (): string => `t${unique()}a`.slice(0, 17);

describe('S3PrefixEraser on a versioned bucket', () => {
  const s3 = new S3Client({ ...sdkOptions(inject('awsEndpoint')), forcePathStyle: true });

  it("deletes every version and delete marker under the tenant's prefix, and nothing of another tenant", async () => {
    // Prepare
    const bucket = `meridian-test-${unique()}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const [gone, kept] = [tenant(), tenant()];
    for (const t of [gone, kept]) {
      for (const body of ['v1', 'v2']) {
        await s3.send(
          new PutObjectCommand({ Bucket: bucket, Key: `tenants/${t}/executions/x1/a.json`, Body: body }),
        );
      }
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `tenants/${t}/exports/o1/export.jsonl`, Body: '{}' }),
      );
    }
    const eraser = new S3PrefixEraser(async () => s3, bucket, true);
    // Act: the job calls again while a cursor comes back
    let erased = 0;
    for (let i = 0; i < 10; i++) {
      const out = await eraser.erase(gone);
      erased += out.erased;
      if (!out.cursor) break;
    }
    const again = await eraser.erase(gone);
    // Assess
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `tenants/${gone}/` }));
    const other = await s3.send(
      new ListObjectVersionsCommand({ Bucket: bucket, Prefix: `tenants/${kept}/` }),
    );
    expect(erased).toBe(3);
    expect(again).toEqual({ erased: 0 });
    expect([...(left.Versions ?? []), ...(left.DeleteMarkers ?? [])]).toEqual([]);
    expect(other.Versions).toHaveLength(3);
  });
});

describe('SfnJobRunner', () => {
  const sfn = new SFNClient(sdkOptions(inject('awsEndpoint')));

  it('starts one execution per run name; starting the same run again starts nothing', async () => {
    // Prepare
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `meridian-lifecycle-test-${unique()}`,
        definition: JSON.stringify(
          lifecycleDefinition('offboarding', 'arn:aws:lambda:us-east-1:123456789012:function:lifecycle'),
        ),
        roleArn: ROLE,
      }),
    );
    const arn = String(machine.stateMachineArn);
    const runner = new SfnJobRunner(sfn, { offboarding: arn, export: arn });
    const input = {
      kind: 'offboarding' as const,
      runName: `p${unique()}-1`,
      input: { tenantId: tenant(), jobId: 'p1' },
    };
    // Act
    await runner.start(input);
    await runner.start(input);
    // Assess
    const listed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: arn }));
    expect(listed.executions?.map((e) => e.name)).toEqual([input.runName]);
  });
});

describe('S3TenantFiles.write', () => {
  const s3 = new S3Client({ ...sdkOptions(inject('awsEndpoint')), forcePathStyle: true });
  const FIVE_MIB = 5 * 1024 * 1024;
  const buckets: string[] = [];

  // moto's data API (test/aws/notifications.test.ts reads it) fails on a bucket holding an object
  // that was uploaded in parts: each test's bucket goes when it ends.
  afterEach(async () => {
    for (const Bucket of buckets.splice(0)) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket }));
      for (const { Key } of listed.Contents ?? []) await s3.send(new DeleteObjectCommand({ Bucket, Key }));
      await s3.send(new DeleteBucketCommand({ Bucket }));
    }
  });

  async function bucketOf(): Promise<string> {
    const bucket = `meridian-test-${unique()}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    buckets.push(bucket);
    return bucket;
  }

  async function* lines(count: number, width: number): AsyncIterable<string> {
    for (let i = 0; i < count; i++) yield `${String(i).padStart(width - 1, '0')}\n`;
  }

  /** Files on 5 MiB parts whose client records the command of each request. */
  function recorded(bucket: string) {
    const sent: string[] = [];
    const client = {
      send: (command: { constructor: { name: string } }) => {
        sent.push(command.constructor.name);
        return s3.send(command as never);
      },
    };
    return { sent, files: new S3TenantFiles(async () => client as never, bucket, undefined, FIVE_MIB) };
  }

  async function stored(bucket: string, key: string) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return { body: (await out.Body?.transformToString()) ?? '', type: out.ContentType };
  }

  it('writes a file under one part with one PutObject, under the tenant prefix', async () => {
    // Prepare
    const bucket = await bucketOf();
    const t = tenant();
    const { sent, files } = recorded(bucket);
    // Act
    const bytes = await files.write(t, 'exports/e1/export.jsonl', lines(3, 4), 'application/x-ndjson');
    // Assess
    expect(bytes).toBe(12);
    expect(sent).toEqual(['PutObjectCommand']);
    expect(await stored(bucket, `tenants/${t}/exports/e1/export.jsonl`)).toEqual({
      body: '000\n001\n002\n',
      type: 'application/x-ndjson',
    });
  });

  it('streams a larger file as a multipart upload in parts of the size it is given', async () => {
    // Prepare: 11 MiB of 64-byte lines: two 5 MiB parts and a last one of 1 MiB
    const bucket = await bucketOf();
    const t = tenant();
    const { sent, files } = recorded(bucket);
    const count = (11 * 1024 * 1024) / 64;
    // Act
    const bytes = await files.write(t, 'exports/e2/export.jsonl', lines(count, 64), 'application/x-ndjson');
    // Assess
    expect(bytes).toBe(11 * 1024 * 1024);
    expect(sent).toEqual([
      'CreateMultipartUploadCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'UploadPartCommand',
      'CompleteMultipartUploadCommand',
    ]);
    const file = await stored(bucket, `tenants/${t}/exports/e2/export.jsonl`);
    expect(file.type).toBe('application/x-ndjson');
    expect(file.body.length).toBe(bytes);
    const all = file.body.split('\n');
    expect(all).toHaveLength(count + 1);
    expect(all[0]).toBe('0'.repeat(63));
    expect(all[count - 1]).toBe(String(count - 1).padStart(63, '0'));
  }, 60_000);

  it('writes an empty file for no chunks', async () => {
    const bucket = await bucketOf();
    const t = tenant();
    const files = new S3TenantFiles(async () => s3, bucket);
    expect(await files.write(t, 'exports/e3/export.jsonl', lines(0, 4), 'application/x-ndjson')).toBe(0);
    expect((await stored(bucket, `tenants/${t}/exports/e3/export.jsonl`)).body).toBe('');
  });
});

describe("offboarding's Step Functions calls, on the tenant's session", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });
  const options = sdkOptions(inject('awsEndpoint'));
  const sfn = new SFNClient(options);
  const TENANT_ROLE =
    process.env.MERIDIAN_AWS_TEST_TENANT_ROLE_ARN ??
    'arn:aws:iam::123456789012:role/meridian-test-tenant-data';

  it("stop the tenant's execution and delete its machine through the tenant's own client", async () => {
    // Prepare: a tenant's workflow machine with a running execution, and the lifecycle wiring's parts
    const prefix = `meridian-t${unique().slice(0, 6)}`;
    const tenantId = tenant();
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `${prefix}-${tenantId}-w${unique().slice(0, 16)}`,
        definition: JSON.stringify({
          StartAt: 'Wait',
          States: { Wait: { Type: 'Wait', Seconds: 600, End: true } },
        }),
        roleArn: ROLE,
      }),
    );
    const stateMachineArn = String(machine.stateMachineArn);
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name: 'run1' }));
    const cfg = parseConfig(
      { STAGE: 'test', MERIDIAN_MODE: 'aws', TABLE_NAME: 'meridian-test', STATE_MACHINE_PREFIX: prefix },
      [core, machines],
    );
    const { clients, sessionTags } = fencedClients(options, TENANT_ROLE);
    // Act: first the executions phase, then the state machines phase
    await executionEngine(cfg, clients).stop({
      tenantId,
      engineArn: String(started.executionArn),
      error: 'Tenant.Offboarded',
      cause: 'test',
    });
    const stopped = await sfn.send(
      new DescribeExecutionCommand({ executionArn: String(started.executionArn) }),
    );
    await workflowRemover(cfg, clients).remove({ tenantId, stateMachineArn });
    // Assess
    expect(stopped.status).toBe('ABORTED');
    // Gone on moto; AWS may answer DELETING for a while.
    const after = await sfn.send(new DescribeStateMachineCommand({ stateMachineArn })).then(
      (d) => d.status,
      (e: Error) => e.name,
    );
    expect(['StateMachineDoesNotExist', 'DELETING']).toContain(after);
    expect(sessionTags()).toEqual([[{ Key: 'TenantId', Value: tenantId }]]);
  });
});

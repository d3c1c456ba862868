import type { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '#adapters/s3-artifacts.ts';
import { artifactMarker, markedArtifact } from '#core/executions/artifacts.ts';

const A = 'taaaaaaaaaaaaaaaa';
const B = 'tbbbbbbbbbbbbbbbb';

function recordingStore() {
  const calls: { tenant: string; command: string; bucket: unknown; key: unknown }[] = [];
  const clientFor = async (tenant: string) =>
    ({
      send: async (command: {
        constructor: { name: string };
        input: { Bucket?: unknown; Key?: unknown };
      }) => {
        calls.push({
          tenant,
          command: command.constructor.name,
          bucket: command.input.Bucket,
          key: command.input.Key,
        });
        return { Body: { transformToString: async () => '{"ok":true}' } };
      },
    }) as unknown as S3Client;
  return { store: new S3ArtifactStore(clientFor, 'bucket'), calls };
}

describe('S3ArtifactStore', () => {
  it("puts and gets under the caller's tenant prefix with that tenant's client", async () => {
    const { store, calls } = recordingStore();
    const uri = await store.put(A, 'executions/e1/step-1.json', '{}');
    await store.get(A, 'executions/e1/step-1.json');
    expect(uri).toBe(`s3://bucket/tenants/${A}/executions/e1/step-1.json`);
    expect(calls).toEqual([
      {
        tenant: A,
        command: 'PutObjectCommand',
        bucket: 'bucket',
        key: `tenants/${A}/executions/e1/step-1.json`,
      },
      {
        tenant: A,
        command: 'GetObjectCommand',
        bucket: 'bucket',
        key: `tenants/${A}/executions/e1/step-1.json`,
      },
    ]);
  });

  it.each([
    `../${B}/executions/e/s.json`,
    `executions/../../${B}/x.json`,
    '/executions/e/s.json',
    'executions//s.json',
    'executions/./s.json',
    '',
    `s3://bucket/tenants/${B}/executions/e/s.json`.replace('s3://', ''),
  ])('refuses the key %j without calling S3 when it could leave the prefix', async (key) => {
    const { store, calls } = recordingStore();
    const escapes = !key.startsWith('bucket/');
    if (escapes) await expect(store.get(A, key)).rejects.toThrow('Not a relative artifact key');
    else await store.get(A, key);
    // Whatever is asked, nothing outside tenants/<A>/ is ever requested.
    for (const call of calls) expect(String(call.key).startsWith(`tenants/${A}/`)).toBe(true);
    if (escapes) expect(calls).toEqual([]);
  });

  it('refuses a tenant id that is not a generated one', async () => {
    const { store, calls } = recordingStore();
    await expect(store.get('../tbbbbbbbbbbbbbbbb', 'executions/e/s.json')).rejects.toThrow();
    expect(calls).toEqual([]);
  });
});

describe('markedArtifact', () => {
  const ref = {
    key: 'executions/e1/big-1.json',
    uri: `s3://bucket/tenants/${A}/executions/e1/big-1.json`,
    size: 5,
  };
  const records = [{ stepKey: 'big', outputRef: ref }, { stepKey: 'small' }];

  it('resolves the marker the platform made, through the step record', () => {
    expect(markedArtifact(artifactMarker(ref, 'big'), records)).toBe(ref);
  });

  it.each([
    ['a bare $ref', { $ref: ref.uri }],
    ['a marker for a step with no stored output', { $ref: ref.uri, step: 'small', size: 5 }],
    ['a marker for an unknown step', { $ref: ref.uri, step: 'nope', size: 5 }],
    [
      "another tenant's URI on a real step",
      { $ref: `s3://bucket/tenants/${B}/executions/e/s.json`, step: 'big' },
    ],
    ['a non-object', 'big'],
    ['an array', [ref.uri]],
  ])('ignores %s', (_name, value) => {
    expect(markedArtifact(value, records)).toBeUndefined();
  });
});

describe('s3For', () => {
  it('gives each tenant its own S3 client when a tenant data role is configured', async () => {
    const { s3For } = await import('#adapters/tenant-storage-clients.ts');
    const { TenantTableClients } = await import('#adapters/tenant-credentials.ts');
    const { dynamoDocumentClient, s3Client } = await import('#adapters/aws-clients.ts');
    const fenced = new TenantTableClients(
      dynamoDocumentClient(),
      'arn:aws:iam::123456789012:role/tenant-data',
    );
    const forA = await s3For(fenced, A);
    expect(await s3For(fenced, A)).toBe(forA);
    expect(await s3For(fenced, B)).not.toBe(forA);
    expect(forA).not.toBe(s3Client());
    const shared = new TenantTableClients(dynamoDocumentClient(), undefined);
    expect(await s3For(shared, A)).toBe(s3Client());
  });
});

import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { S3AuditArchive } from '#adapters/audit/s3-archive.ts';
import { KmsDigestSigner, LocalDigestSigner, pemOf } from '#adapters/audit/signers.ts';
import { buildRecord } from '#core/audit/audit.ts';
import { makeDigest, signatureValid } from '#core/audit/digest.ts';

const T = 'tabcdefghijklmnop';
const record = buildRecord({
  tenantId: T,
  actor: { id: 'u1', type: 'user' },
  meta: { requestId: 'r', sourceIp: '10.0.0.1', userAgent: 'ua', now: '2026-11-29T10:00:00.000Z' },
  draft: { action: 'role.create', resourceType: 'role', resourceId: 'r' },
});

describe('KmsDigestSigner', () => {
  const kms = new KMSClient({ region: 'us-east-1' });
  const mock = mockClient(kms);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  afterEach(() => mock.reset());

  it('has KMS sign the SHA-256 of the message (ECDSA_SHA_256) and serves its public key as PEM', async () => {
    // Prepare: what KMS returns for MessageType DIGEST is an ECDSA signature over the message it hashed
    const message = new TextEncoder().encode('{"seq":1}');
    mock
      .on(SignCommand)
      .resolves({ Signature: sign('sha256', message, { key: privateKey, dsaEncoding: 'der' }) });
    const der = publicKey.export({ type: 'spki', format: 'der' });
    mock.on(GetPublicKeyCommand).resolves({ PublicKey: der });
    const signer = new KmsDigestSigner(kms, 'arn:aws:kms:us-east-1:1:key/k');
    // Act
    const signature = await signer.sign(message);
    const pem = await signer.publicKeyPem();
    await signer.publicKeyPem();
    // Assess
    const input = mock.commandCalls(SignCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      KeyId: 'arn:aws:kms:us-east-1:1:key/k',
      MessageType: 'DIGEST',
      SigningAlgorithm: 'ECDSA_SHA_256',
    });
    expect(Buffer.from(input?.Message ?? []).toString('hex')).toBe(
      createHash('sha256').update(message).digest('hex'),
    );
    expect(signer.keyId).toBe('arn:aws:kms:us-east-1:1:key/k');
    expect(pem).toBe(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    expect(pemOf(der)).toBe(pem);
    expect(verify('sha256', message, { key: pem, dsaEncoding: 'der' }, signature)).toBe(true);
    expect(mock.commandCalls(GetPublicKeyCommand)).toHaveLength(1);
  });

  it('fails without a signature or a key, and does not cache a failed key lookup', async () => {
    // Prepare
    mock.on(SignCommand).resolves({});
    mock.on(GetPublicKeyCommand).rejectsOnce(new Error('throttled')).resolves({});
    const signer = new KmsDigestSigner(kms, 'k');
    // Act / Assess
    await expect(signer.sign(new Uint8Array([1]))).rejects.toThrow('no signature');
    await expect(signer.publicKeyPem()).rejects.toThrow('throttled');
    await expect(signer.publicKeyPem()).rejects.toThrow('no public key');
    expect(mock.commandCalls(GetPublicKeyCommand)).toHaveLength(2);
  });
});

describe('LocalDigestSigner', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('makes a P-256 key file on first use (owner-only), keeps it, and signs verifiably', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'meridian-signer-'));
    dirs.push(dir);
    const path = join(dir, 'keys', 'audit.pem');
    // Act
    const first = await LocalDigestSigner.open(path);
    const again = await LocalDigestSigner.open(path);
    const digest = await makeDigest(
      { tenantId: T, previous: undefined, records: [record], objects: [], at: 'x' },
      first,
    );
    // Assess
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(again.keyId).toBe(first.keyId);
    const spki = createHash('sha256')
      .update(Buffer.from((await first.publicKeyPem()).replace(/-----[^-]+-----|\s/g, ''), 'base64'))
      .digest('hex');
    expect(first.keyId).toBe(`local:${spki.slice(0, 16)}`);
    expect(signatureValid(digest, await again.publicKeyPem())).toBe(true);
  });
});

describe('S3AuditArchive', () => {
  const s3 = new S3Client({ region: 'us-east-1' });
  const mock = mockClient(s3);
  afterEach(() => mock.reset());
  const body = (text: string) => ({ transformToString: async () => text });
  it('writes JSONL and digests to their keys and reads every page of digests back', async () => {
    // Prepare
    mock.on(PutObjectCommand).resolves({});
    const archive = new S3AuditArchive(s3, 'audit-bucket');
    const digest = await makeDigest(
      { tenantId: T, previous: undefined, records: [record], objects: [], at: 'x' },
      { keyId: 'k', sign: async () => new Uint8Array([1]), publicKeyPem: async () => '' },
    );
    mock
      .on(ListObjectsV2Command)
      .resolvesOnce({ Contents: [{ Key: 'digests/a' }], IsTruncated: true, NextContinuationToken: 'n' })
      .resolves({ Contents: [{ Key: 'digests/b' }], IsTruncated: false });
    mock.on(GetObjectCommand).callsFake(() => ({ Body: body(JSON.stringify(digest)) }) as never);
    // Act
    await archive.putObject('records/x.jsonl', 'line\n');
    await archive.putDigest(digest);
    const listed = await archive.listDigests(T);
    // Assess
    const puts = mock.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    expect(puts[0]).toMatchObject({
      Bucket: 'audit-bucket',
      Key: 'records/x.jsonl',
      Body: 'line\n',
      ContentType: 'application/x-ndjson',
    });
    expect(puts[1]).toMatchObject({
      Key: `digests/tenant=${T}/000000000001.json`,
      ContentType: 'application/json',
    });
    expect(JSON.parse(String(puts[1]?.Body))).toEqual(digest);
    const lists = mock.commandCalls(ListObjectsV2Command).map((c) => c.args[0].input);
    expect(lists).toEqual([
      { Bucket: 'audit-bucket', Prefix: `digests/tenant=${T}/`, ContinuationToken: undefined },
      { Bucket: 'audit-bucket', Prefix: `digests/tenant=${T}/`, ContinuationToken: 'n' },
    ]);
    expect(listed).toEqual([digest, digest]);
  });
});

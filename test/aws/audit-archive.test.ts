import { createHash, createPublicKey, randomUUID } from 'node:crypto';
import { CreateKeyCommand, KMSClient, VerifyCommand } from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, inject, it } from 'vitest';
import { S3AuditArchive } from '#adapters/audit/s3-archive.ts';
import { KmsDigestSigner } from '#adapters/audit/signers.ts';
import { digestKey } from '#core/audit/archiver.ts';
import type { Digest } from '#core/audit/digest.ts';
import { sdkOptions } from '../helpers/moto.ts';

const options = sdkOptions(inject('awsEndpoint'));

describe('the KMS digest signer against the AWS API (moto by default)', () => {
  const kms = new KMSClient(options);

  it('signs with an ECC_NIST_P256 key: KMS verifies it, refuses it for another message, and serves the P-256 public key', async () => {
    // Prepare
    const key = await kms.send(
      new CreateKeyCommand({
        KeySpec: 'ECC_NIST_P256',
        KeyUsage: 'SIGN_VERIFY',
        Description: 'audit digests',
      }),
    );
    const keyId = key.KeyMetadata?.KeyId ?? '';
    const signer = new KmsDigestSigner(kms, keyId);
    const message = new TextEncoder().encode('{"tenantId":"t1","seq":1}');
    // Act
    const signature = await signer.sign(message);
    const pem = await signer.publicKeyPem();
    // Assess: the served key is the P-256 public key (what GET /audit/public-key and
    // bin/audit-verify.ts check with). moto signs the digest it is given hashed once more (it ignores
    // MessageType DIGEST), so the offline check of KMS's DIGEST signing is at the SDK edge
    // (test/unit/adapters/audit/audit-adapters.test.ts) and docs/emulators.md names the gap.
    expect(pem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(createPublicKey(pem).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    // and by KMS itself, over the same SHA-256 digest the signer sent
    const checked = await kms.send(
      new VerifyCommand({
        KeyId: keyId,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        Signature: signature,
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    expect(checked.SignatureValid).toBe(true);
    const other = await kms
      .send(
        new VerifyCommand({
          KeyId: keyId,
          Message: createHash('sha256').update('{"tenantId":"t2"}').digest(),
          MessageType: 'DIGEST',
          Signature: signature,
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      )
      .catch(() => ({ SignatureValid: false }));
    expect(other.SignatureValid).toBe(false);
  });
});

describe('the audit archive on an Object Lock bucket (moto by default)', () => {
  const s3 = new S3Client({ ...options, forcePathStyle: true });

  it('writes digests and records under COMPLIANCE retention, lists them back, and a locked version cannot be deleted', async () => {
    // Prepare: a bucket like lib/constructs/audit-archive.ts makes (Object Lock, COMPLIANCE by default)
    const bucket = `audit-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: 'Enabled',
          Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 1 } },
        },
      }),
    );
    const archive = new S3AuditArchive(s3, bucket);
    const digest = {
      tenantId: 'tenant1',
      seq: 1,
      signature: 'c2ln',
    } as unknown as Digest;
    // Act
    await archive.putDigest(digest);
    await archive.putObject('records/tenant=tenant1/hour=2026-11-29T23/a.jsonl', '{"id":"a"}\n');
    // Assess
    expect(await archive.listDigests('tenant1')).toEqual([digest]);
    expect(await archive.listDigests('tenant2')).toEqual([]);
    expect(await archive.text('records/tenant=tenant1/hour=2026-11-29T23/a.jsonl')).toBe('{"id":"a"}\n');
    // The bucket's default retention applies to what the archive writes: its version cannot be
    // deleted. (moto's GetObjectRetention answer does not parse in the SDK: docs/emulators.md.)
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: 'digests/' }));
    const versionId = versions.Versions?.[0]?.VersionId;
    await expect(
      s3.send(
        new DeleteObjectCommand({ Bucket: bucket, Key: digestKey('tenant1', 1), VersionId: versionId }),
      ),
    ).rejects.toThrow(/Access ?Denied|locked|retention/i);
  });
});

import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GetPublicKeyCommand, type KMSClient, SignCommand } from '@aws-sdk/client-kms';
import type { DigestSigner } from '#core/audit/digest.ts';

/** SPKI DER → PEM. */
export function pemOf(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN PUBLIC KEY-----\n${base64.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END PUBLIC KEY-----\n`;
}

/**
 * Signs digests with an asymmetric KMS key (ECC_NIST_P256, SIGN_VERIFY): KMS is given the SHA-256
 * of the message (MessageType DIGEST), so a digest of any size signs in one call.
 */
export class KmsDigestSigner implements DigestSigner {
  private publicKey: Promise<string> | undefined;

  constructor(
    private readonly kms: KMSClient,
    readonly keyId: string,
  ) {}

  async sign(message: Uint8Array): Promise<Uint8Array> {
    const out = await this.kms.send(
      new SignCommand({
        KeyId: this.keyId,
        Message: createHash('sha256').update(message).digest(),
        MessageType: 'DIGEST',
        SigningAlgorithm: 'ECDSA_SHA_256',
      }),
    );
    if (!out.Signature) throw new Error('KMS returned no signature');
    return out.Signature;
  }

  publicKeyPem(): Promise<string> {
    this.publicKey ??= this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId })).then((out) => {
      if (!out.PublicKey) throw new Error('KMS returned no public key');
      return pemOf(out.PublicKey);
    });
    // A failed call must not be cached.
    this.publicKey.catch(() => {
      this.publicKey = undefined;
    });
    return this.publicKey;
  }
}

/**
 * Signs digests with an ECDSA P-256 key kept in a PEM file (offline and on the local platform),
 * made on first use. Its key id names the public key's fingerprint.
 */
export class LocalDigestSigner implements DigestSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly keyId: string,
  ) {}

  static async open(path: string): Promise<LocalDigestSigner> {
    let pem: string;
    try {
      pem = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      await mkdir(dirname(path), { recursive: true });
      // `wx`: two processes starting at once keep the first key.
      await writeFile(path, pem, { flag: 'wx', mode: 0o600 }).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
        pem = await readFile(path, 'utf8');
      });
    }
    const privateKey = createPrivateKey(pem);
    const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
    return new LocalDigestSigner(
      privateKey,
      `local:${createHash('sha256').update(spki).digest('hex').slice(0, 16)}`,
    );
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, { key: this.privateKey, dsaEncoding: 'der' });
  }

  async publicKeyPem(): Promise<string> {
    return createPublicKey(this.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  }
}

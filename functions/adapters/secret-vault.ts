import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  RestoreSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ConflictError } from '#core/errors.ts';
import type { SecretVault } from '#core/tenancy/ports.ts';
import { TENANT_TAG } from '#shared/resource-names.ts';

/** The Secrets Manager name of a tenant's secret: `<prefix>/<tenantId>/<name>`, the path IAM fences per tenant. */
export function secretId(prefix: string, tenantId: string, name: string): string {
  return `${prefix}/${tenantId}/${name}`;
}

/**
 * Reads tenant secrets from Secrets Manager: what a function that only reads them needs (the step
 * runner, functions/adapters/wiring/base.ts secretsOf), with GetSecretValue alone, the one secret
 * call its role allows (lib/aws-calls.ts).
 */
export class SecretsManagerSecrets implements Pick<SecretVault, 'get'> {
  constructor(
    protected readonly client: (tenantId: string) => Promise<SecretsManagerClient>,
    protected readonly prefix: string,
  ) {}

  async get(tenantId: string, name: string): Promise<string | undefined> {
    const client = await this.client(tenantId);
    try {
      const out = await client.send(
        new GetSecretValueCommand({ SecretId: secretId(this.prefix, tenantId, name) }),
      );
      return out.SecretString;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }
}

/** Secrets Manager as the {@link SecretVault}: one secret per tenant secret, tagged with the tenant. */
export class SecretsManagerVault extends SecretsManagerSecrets implements SecretVault {
  /** As the reader, and says so when the secret is only scheduled for deletion (DescribeSecret). */
  override async get(tenantId: string, name: string): Promise<string | undefined> {
    try {
      return await super.get(tenantId, name);
    } catch (error) {
      const id = secretId(this.prefix, tenantId, name);
      if (
        error instanceof InvalidRequestException &&
        (await this.scheduledForDeletion(await this.client(tenantId), id))
      ) {
        throw new ConflictError(
          `Secret ${name} is scheduled for deletion; write it again (PUT /secrets/${name}) to restore it.`,
        );
      }
      throw error;
    }
  }

  /** True when the secret exists but is scheduled for deletion (DescribeSecret shows a DeletedDate). */
  private async scheduledForDeletion(client: SecretsManagerClient, id: string): Promise<boolean> {
    try {
      const out = await client.send(new DescribeSecretCommand({ SecretId: id }));
      return out.DeletedDate !== undefined;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  async put(tenantId: string, name: string, value: string, description?: string): Promise<void> {
    const client = await this.client(tenantId);
    const id = secretId(this.prefix, tenantId, name);
    try {
      await client.send(
        new CreateSecretCommand({
          Name: id,
          SecretString: value,
          ...(description ? { Description: description } : {}),
          Tags: [{ Key: TENANT_TAG, Value: tenantId }],
        }),
      );
      return;
    } catch (error) {
      if (!(error instanceof ResourceExistsException || error instanceof InvalidRequestException))
        throw error;
      // AWS answers InvalidRequestException for a name scheduled for deletion (deleted with a
      // recovery window, as earlier versions did); moto answers ResourceExistsException. Either way
      // restore it first, or PutSecretValue fails on AWS and the value stays deleted on moto.
      if (await this.scheduledForDeletion(client, id)) {
        await client.send(new RestoreSecretCommand({ SecretId: id }));
      } else if (error instanceof InvalidRequestException) throw error;
    }
    await client.send(new PutSecretValueCommand({ SecretId: id, SecretString: value }));
  }

  async delete(tenantId: string, name: string): Promise<void> {
    const client = await this.client(tenantId);
    try {
      // No recovery window: the API deletes the metadata first and offers no restore, and a secret
      // waiting out a window blocks re-creating the same name (InvalidRequestException on AWS).
      await client.send(
        new DeleteSecretCommand({
          SecretId: secretId(this.prefix, tenantId, name),
          ForceDeleteWithoutRecovery: true,
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
  }
}

/**
 * The local platform's vault: AES-256-GCM encrypted files under the state folder, keyed by a random
 * key kept beside them. No emulator of Secrets Manager exists among the packages we can use.
 */
export class LocalFileVault implements SecretVault {
  constructor(private readonly dir: string) {}

  private async key(): Promise<Buffer> {
    const path = join(this.dir, 'vault.key');
    try {
      return Buffer.from(await readFile(path, 'utf8'), 'base64');
    } catch {
      await mkdir(this.dir, { recursive: true });
      const key = randomBytes(32);
      await writeFile(path, key.toString('base64'), { mode: 0o600, flag: 'wx' }).catch(() => undefined);
      return Buffer.from(await readFile(path, 'utf8'), 'base64');
    }
  }

  private file(tenantId: string, name: string): string {
    return join(this.dir, `${createHash('sha256').update(`${tenantId}/${name}`).digest('hex')}.enc`);
  }

  async put(tenantId: string, name: string, value: string): Promise<void> {
    const key = await this.key();
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(`${tenantId}/${name}`));
    const data = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
    await writeFile(this.file(tenantId, name), Buffer.concat([iv, cipher.getAuthTag(), data]), {
      mode: 0o600,
    });
  }

  async get(tenantId: string, name: string): Promise<string | undefined> {
    let raw: Buffer;
    try {
      raw = await readFile(this.file(tenantId, name));
    } catch {
      return undefined;
    }
    const decipher = createDecipheriv('aes-256-gcm', await this.key(), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${tenantId}/${name}`));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
  }

  async delete(tenantId: string, name: string): Promise<void> {
    await rm(this.file(tenantId, name), { force: true });
  }
}

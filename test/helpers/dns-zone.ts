import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * Publishes a TXT record where the integration platform looks (test/integration/global-setup.ts
 * starts the DNS server on this folder): one file per name, one record per line.
 */
export async function publishTxt(name: string, value: string): Promise<void> {
  await appendFile(join(inject('dnsZoneDir'), name.toLowerCase()), `${value}\n`);
}

/** Replaces every TXT record of `name` (none: the name exists without TXT records). */
export async function replaceTxt(name: string, values: readonly string[]): Promise<void> {
  await writeFile(
    join(inject('dnsZoneDir'), name.toLowerCase()),
    values.map((value) => `${value}\n`).join(''),
  );
}

import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { Mail, Mailer } from '#core/notifications/ports.ts';

/**
 * The local platform's outbox: each email is a file `<state>/mailbox/<timestamp>-<id>.json` holding
 * `{to, subject, text}`, the format `GET /local/mailbox` reads. Written under a temporary name and
 * renamed, so a reader never sees half a file.
 */
export class LocalMailbox implements Mailer {
  constructor(private readonly dir: string) {}

  async send(_tenantId: string, mail: Mail): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const name = `${Date.now()}-${randomUUID()}.json`;
    const temporary = join(this.dir, `.${name}.tmp`);
    await writeFile(
      temporary,
      JSON.stringify({ to: mail.to, subject: mail.subject, text: mail.text }),
      'utf8',
    );
    await rename(temporary, join(this.dir, name));
  }
}

/** Email through SES v2 from the stage's verified sender address. */
export class SesMailer implements Mailer {
  constructor(
    private readonly client: SESv2Client,
    private readonly from: string,
  ) {}

  async send(tenantId: string, mail: Mail): Promise<void> {
    await this.client.send(
      new SendEmailCommand({
        FromEmailAddress: this.from,
        Destination: { ToAddresses: [mail.to] },
        Content: {
          Simple: {
            Subject: { Data: mail.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: mail.text, Charset: 'UTF-8' } },
          },
        },
        // Bounces and complaints can be traced to the tenant whose event sent the mail.
        EmailTags: [{ Name: 'tenant', Value: tenantId }],
      }),
    );
  }
}

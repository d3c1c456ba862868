import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeliveryRef } from '#core/notifications/model.ts';
import type { DeliveryQueue, Mail, Mailer } from '#core/notifications/ports.ts';

/* The local platform's notification transport (no AWS SDK: the container always bundles it). */

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

/**
 * The local platform's delivery queue: an in-process timer per message, running `deliver` when it
 * is due, like SQS delaying a message and invoking the delivery function. Dead letters are kept in
 * memory for inspection. Pending timers do not survive a restart of the local platform (like the
 * executions it runs).
 */
export class LocalDeliveryQueue implements DeliveryQueue {
  readonly deadLetters: { ref: DeliveryRef; reason: string }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly deliver: (ref: DeliveryRef) => Promise<unknown>,
    private readonly onError: (error: unknown, ref: DeliveryRef) => void,
  ) {}

  enqueue(ref: DeliveryRef, delayMs: number): Promise<void> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.deliver(ref).catch((error: unknown) => this.onError(error, ref));
    }, delayMs);
    // A due delivery never keeps the process alive on its own.
    timer.unref();
    this.timers.add(timer);
    return Promise.resolve();
  }

  deadLetter(ref: DeliveryRef, reason: string): Promise<void> {
    this.deadLetters.push({ ref, reason });
    return Promise.resolve();
  }

  /** Drops every pending delivery (the platform stops). */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}

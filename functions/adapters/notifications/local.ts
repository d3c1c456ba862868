import type { DeliveryRef } from '#core/notifications/model.ts';
import type { DeliveryQueue, Mail, Mailer } from '#core/notifications/ports.ts';
import { LocalMailbox } from '../local-mailbox.ts';

/* The local platform's notification transport (no AWS SDK: every composition root may bundle it). */

/**
 * Notification emails on the local platform: files in the local mailbox beside invitations
 * (functions/adapters/local-mailbox.ts), the folder `GET /local/mailbox` reads.
 */
export class LocalMailer implements Mailer {
  private readonly mailbox: LocalMailbox;

  constructor(dir: string) {
    this.mailbox = new LocalMailbox(dir);
  }

  async send(_tenantId: string, mail: Mail): Promise<void> {
    await this.mailbox.send({ to: mail.to, subject: mail.subject, text: mail.text });
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

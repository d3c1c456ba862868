import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One email as the local platform "sends" it: a file, so a developer (or a test) can read it. */
export interface LocalMail {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly sentAt: string;
}

/** Mail files kept for `GET /local/mailbox`; older ones stay on disk but are not listed. */
const MAX_LISTED = 200;

/**
 * The local platform's outbox: every email becomes `<stateDir>/mailbox/<timestamp>-<id>.json` with
 * `{to, subject, text, sentAt}` (invitations here; notifications use the same format). Files are
 * mode 0600: invitations carry temporary passwords.
 */
export class LocalMailbox {
  constructor(private readonly dir: string) {}

  /** The mailbox folder of a state directory. */
  static of(stateDir: string): LocalMailbox {
    return new LocalMailbox(join(stateDir, 'mailbox'));
  }

  async send(mail: Omit<LocalMail, 'sentAt'>, now = new Date()): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    const sentAt = now.toISOString();
    const name = `${sentAt.replace(/[:.]/g, '-')}-${randomBytes(6).toString('hex')}.json`;
    const temp = join(this.dir, `.${name}.tmp`);
    await writeFile(temp, `${JSON.stringify({ ...mail, sentAt }, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, join(this.dir, name));
    return name;
  }

  /** The newest mails first (optionally only those to `to`). */
  async list(to?: string): Promise<(LocalMail & { id: string })[]> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => n.endsWith('.json') && !n.startsWith('.'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    names.sort().reverse();
    const out: (LocalMail & { id: string })[] = [];
    for (const name of names) {
      if (out.length >= MAX_LISTED) break;
      const mail = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as LocalMail;
      if (to === undefined || mail.to.toLowerCase() === to.toLowerCase()) {
        out.push({ id: name.slice(0, -'.json'.length), ...mail });
      }
    }
    return out;
  }
}

/** The temporary password an invitation carries (its `Temporary password: ...` line). */
export function temporaryPasswordOf(mail: Pick<LocalMail, 'text'>): string | undefined {
  return /^Temporary password: (\S+)$/m.exec(mail.text)?.[1];
}

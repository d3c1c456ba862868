import { type AuditRecord, byId, compareText } from './audit.ts';
import { type Digest, type DigestSigner, makeDigest } from './digest.ts';

/** The write-once archive (S3 with Object Lock on AWS): JSONL record files and digests. */
export interface AuditArchiveStore {
  putObject(key: string, body: string): Promise<void>;
  putDigest(digest: Digest): Promise<void>;
  /** Every digest of a tenant, any order. */
  listDigests(tenantId: string): Promise<Digest[]>;
}

/** The consumer's own index of digests in the table: the latest says where the chain is. */
export interface DigestIndex {
  latest(tenantId: string): Promise<Digest | undefined>;
  /** Records `digest` as the tenant's latest; fails when that number is taken. */
  add(digest: Digest): Promise<void>;
  /** Lets the table expire records whose digest is archived (TTL), never before. */
  expire(tenantId: string, ids: readonly string[], at: Date): Promise<void>;
}

/** What archiving needs. */
export interface ArchiverDeps {
  readonly archive: AuditArchiveStore;
  readonly index: DigestIndex;
  readonly signer: DigestSigner;
  readonly now: () => Date;
}

/** Archive key of a tenant's records of one hour: `records/tenant=<t>/2026/11/29/10/<first>-<last>.jsonl`. */
export function recordsKey(tenantId: string, hour: string, firstId: string, lastId: string): string {
  const date = hour.slice(0, 10).replaceAll('-', '/');
  return `records/tenant=${tenantId}/${date}/${hour.slice(11, 13)}/${firstId}-${lastId}.jsonl`;
}

/** Archive key of a tenant's digest number `seq`. */
export function digestKey(tenantId: string, seq: number): string {
  return `digests/tenant=${tenantId}/${String(seq).padStart(12, '0')}.json`;
}

/** Tenants archived at once within a batch. */
const TENANTS_AT_ONCE = 8;

/**
 * Archives one batch of new audit records (from the table's stream): per tenant, the records go to
 * JSONL files by hour, then one signed digest covers them (claimed in the index, then archived), then
 * the table may expire them. A batch retried after a crash rewrites the same files (same keys, same content)
 * and skips the records the latest digest already holds, so none is lost and none digested twice.
 */
export async function archiveRecords(deps: ArchiverDeps, records: readonly AuditRecord[]): Promise<Digest[]> {
  const byTenant = new Map<string, AuditRecord[]>();
  for (const record of records) {
    const list = byTenant.get(record.tenantId) ?? [];
    list.push(record);
    byTenant.set(record.tenantId, list);
  }
  const made: Digest[] = [];
  const archiveTenant = async (tenantId: string, list: readonly AuditRecord[]): Promise<void> => {
    const previous = await deps.index.latest(tenantId);
    const done = new Set(previous?.records.map((r) => r.id));
    // A retried batch: the index may hold a digest the archive missed (a crash between the two).
    if (previous && list.some((r) => done.has(r.id))) await deps.archive.putDigest(previous);
    const unique = new Map(list.filter((r) => !done.has(r.id)).map((r) => [r.id, r]));
    const fresh = [...unique.values()].sort(byId);
    if (fresh.length === 0) return;
    // `fresh` is in id order, so an hour's first record opens its file's name and its last closes it.
    const hours = new Map<string, { first: string; last: string; lines: string[] }>();
    for (const record of fresh) {
      const hour = record.at.slice(0, 13);
      const file = hours.get(hour);
      if (file) {
        file.last = record.id;
        file.lines.push(JSON.stringify(record));
      } else hours.set(hour, { first: record.id, last: record.id, lines: [JSON.stringify(record)] });
    }
    const objects: string[] = [];
    for (const [hour, file] of hours) {
      const key = recordsKey(tenantId, hour, file.first, file.last);
      await deps.archive.putObject(key, `${file.lines.join('\n')}\n`);
      objects.push(key);
    }
    const now = deps.now();
    const digest = await makeDigest(
      { tenantId, previous, records: fresh, objects, at: now.toISOString() },
      deps.signer,
    );
    // The number is claimed in the index first (conditional), so two consumers racing on one tenant
    // never overwrite each other's digest in the archive: the loser fails and its batch is retried.
    await deps.index.add(digest);
    await deps.archive.putDigest(digest);
    await deps.index.expire(
      tenantId,
      fresh.map((r) => r.id),
      now,
    );
    made.push(digest);
  };
  // Tenants in parallel (each tenant's chain still gets one digest per batch, in order), a few at a
  // time: a backlog of many tenants would otherwise take one round trip after another.
  const queue = [...byTenant];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next; next = queue.shift()) await archiveTenant(...next);
  };
  const results = await Promise.allSettled(Array.from({ length: TENANTS_AT_ONCE }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // One tenant's failure fails the batch (it is retried whole; the tenants done skip their records).
  if (failed) throw failed.reason;
  return made.sort((a, b) => compareText(a.tenantId, b.tenantId));
}

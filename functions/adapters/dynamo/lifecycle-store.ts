import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { type AuditContext, auditId } from '#core/audit/audit.ts';
import { ConflictError } from '#core/errors.ts';
import type { ExportJob, ExportLine, ExportSource, ExportStore } from '#core/tenancy/exports.ts';
import type { Tenant } from '#core/tenancy/model.ts';
import type { OffboardingJob, OffboardingStore, TenantEraser } from '#core/tenancy/offboarding.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import * as keys from './item-keys.ts';
import { INDEX, type Key, tenantPk } from './keys.ts';
import { strip, type Table } from './table.ts';

/** Offboarding jobs as the tenant's `OFFBOARDING` item. */
export class DynamoOffboardingStore implements OffboardingStore {
  constructor(private readonly table: Table) {}

  async getJob(tenantId: string): Promise<OffboardingJob | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.offboarding(tenantId));
    if (!item) return undefined;
    const { expiresAt: _ttl, ...job } = strip<Record<string, unknown>>(item);
    return job as unknown as OffboardingJob;
  }

  async beginOffboarding(tenant: Tenant, job: OffboardingJob, audit: AuditContext): Promise<void> {
    const t = tenant.tenantId;
    await this.table.commit(
      audit,
      [
        this.table.put(
          {
            ...keys.tenant(t),
            ...keys.tenantsIndex(tenant.name, t),
            type: 'tenant',
            ...tenant,
            status: 'offboarding',
            updatedAt: job.startedAt,
          },
          '#u = :u',
          { '#u': 'updatedAt' },
          { ':u': tenant.updatedAt },
        ),
        this.table.put({ ...keys.offboarding(t), type: 'offboarding', ...job }, 'attribute_not_exists(pk)'),
      ],
      () => new ConflictError('The tenant changed meanwhile, or its offboarding already began.'),
    );
  }

  async saveJob(job: OffboardingJob): Promise<boolean> {
    const db = await this.table.clients.forTenant(job.tenantId);
    // A completed job is a tombstone: it holds no personal data and goes after a year by TTL.
    const ttl =
      job.status === 'completed' && job.completedAt
        ? { expiresAt: Math.floor(Date.parse(job.completedAt) / 1000) + TOMBSTONE_SECONDS }
        : {};
    try {
      await db.send(
        new PutCommand({
          TableName: this.table.name,
          Item: { ...keys.offboarding(job.tenantId), type: 'offboarding', ...job, ...ttl },
          ConditionExpression: '#v = :v',
          ExpressionAttributeNames: { '#v': 'version' },
          ExpressionAttributeValues: { ':v': job.version - 1 },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/** How long the offboarding tombstone stays (so `GET /tenants/{id}/offboarding` keeps answering). */
export const TOMBSTONE_SECONDS = 365 * 24 * 3600;

/** Items deleted per eraser call: small enough for one Lambda task, large enough to go fast. */
const BATCH_ITEMS = 200;

/** Items kept by the table phase: the tenant record goes last (own phase), the tombstone stays. */
const KEPT_SORT_KEYS: ReadonlySet<string> = new Set(['PROFILE', 'OFFBOARDING']);
const NOTHING_KEPT: ReadonlySet<string> = new Set();

/**
 * How long offboarding waits for the audit stream consumer to archive the tenant's last records
 * (offboarding itself writes some) before it erases the audit partition: the consumer digests every
 * interval (60 s at most on AWS), and once a record is archived it marks it with a TTL. Erasing
 * earlier would let the consumer write its digest index back after the erasure. A record older than
 * this is erased anyway: a consumer that has not archived it by then is broken, and waiting longer
 * would not help.
 */
export const AUDIT_ARCHIVE_WAIT_MS = 10 * 60_000;
/** The pause before a batch that found unarchived records returns to wait again. */
const AUDIT_ARCHIVE_POLL_MS = 1_000;

interface TableCursor {
  /** Index into the families. */
  readonly f: number;
  /** The last key read in that family. */
  readonly k?: Record<string, unknown>;
}

/**
 * Deletes every table item of a tenant by walking the partitions it owns, never scanning the table:
 * its executions (found through the tenant's executions index, each in its own partition), its run
 * slots, its recent rate-limit counters (older ones are past their TTL and hold only counts), its
 * audit partition (records and digests: the Object Lock archive keeps them), then the tenant's own
 * partition except its record and the offboarding tombstone, then its notifications.
 */
export class DynamoTenantEraser implements TenantEraser {
  readonly name = 'items';

  constructor(
    private readonly table: Table,
    /** Rate-limit slot length and window, to find the slots whose counters may still exist. */
    private readonly rate: { readonly slotMs: number; readonly windowSeconds: number },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async erase(tenantId: string, cursor?: string): Promise<{ erased: number; cursor?: string }> {
    const db = await this.table.clients.forTenant(tenantId);
    const state: TableCursor = cursor ? (JSON.parse(cursor) as TableCursor) : { f: 0 };
    const families = [
      () => this.executions(db, tenantId, state.k),
      () => this.partition(db, keys.runSlotPartition(tenantId), state.k),
      () => this.rateCounters(db, tenantId),
      () => this.partition(db, keys.auditPartition(tenantId), state.k),
      () => this.partition(db, tenantPk(tenantId), state.k, KEPT_SORT_KEYS),
      // Last, so a cursor from before it still names the same family. The API sweeps notifications
      // when offboarding starts; this takes those raised while the job stopped the executions.
      () => this.partition(db, keys.notificationPartition(tenantId), state.k),
    ];
    const AUDIT_FAMILY = 3;
    if (state.f === AUDIT_FAMILY && !state.k && (await this.unarchivedAudit(db, tenantId))) {
      await new Promise((resolve) => setTimeout(resolve, AUDIT_ARCHIVE_POLL_MS));
      return { erased: 0, cursor: JSON.stringify(state) };
    }
    const run = families[state.f];
    if (!run) return { erased: 0 };
    const out = await run();
    const next: TableCursor | undefined = out.last
      ? { f: state.f, k: out.last }
      : state.f + 1 < families.length
        ? { f: state.f + 1 }
        : undefined;
    return { erased: out.erased, ...(next ? { cursor: JSON.stringify(next) } : {}) };
  }

  /** Whether a recent audit record of the tenant is not archived yet (no TTL set by the consumer). */
  private async unarchivedAudit(db: DynamoDBDocumentClient, tenantId: string): Promise<boolean> {
    // Record ids are ULIDs, time first: the key range from the oldest id worth waiting for reads only
    // the last few minutes of the trail, however long the tenant's history.
    const from = `${keys.prefix.auditRecord}${auditId(this.now().getTime() - AUDIT_ARCHIVE_WAIT_MS, new Uint8Array(10))}`;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: this.table.name,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
          FilterExpression: 'attribute_not_exists(#ttl)',
          ExpressionAttributeNames: { '#ttl': TABLE_SCHEMA.ttlAttribute },
          ExpressionAttributeValues: {
            ':pk': keys.auditPartition(tenantId),
            ':from': from,
            // After every Crockford base32 character.
            ':to': `${keys.prefix.auditRecord}~`,
          },
          ProjectionExpression: 'sk',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      if ((page.Items ?? []).length > 0) return true;
      start = page.LastEvaluatedKey;
    } while (start);
    return false;
  }

  /** A batch of one partition's items (bar the kept ones); `last` when more may follow. */
  private async partition(
    db: DynamoDBDocumentClient,
    pk: string,
    start: Record<string, unknown> | undefined,
    kept: ReadonlySet<string> = NOTHING_KEPT,
  ): Promise<{ erased: number; last?: Record<string, unknown> }> {
    const page = await db.send(
      new QueryCommand({
        TableName: this.table.name,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'pk, sk',
        Limit: BATCH_ITEMS,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    const doomed = (page.Items ?? [])
      .map((i) => ({ pk: String(i.pk), sk: String(i.sk) }))
      .filter((k) => !kept.has(k.sk));
    await this.deleteAll(db, doomed);
    return { erased: doomed.length, ...(page.LastEvaluatedKey ? { last: page.LastEvaluatedKey } : {}) };
  }

  /** A batch of executions, each with every item of its partition. */
  private async executions(
    db: DynamoDBDocumentClient,
    tenantId: string,
    start: Record<string, unknown> | undefined,
  ): Promise<{ erased: number; last?: Record<string, unknown> }> {
    const page = await db.send(
      new QueryCommand({
        TableName: this.table.name,
        IndexName: INDEX.indexName,
        KeyConditionExpression: '#g = :g',
        ExpressionAttributeNames: { '#g': INDEX.partitionKey },
        ExpressionAttributeValues: { ':g': keys.executionsIndexPartition(tenantId) },
        ProjectionExpression: 'pk, sk, gsi1pk, gsi1sk',
        Limit: 20,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    // The executions of a page are erased side by side: each is a partition of its own.
    const counts = await Promise.all(
      (page.Items ?? []).map(async (meta) => {
        // The execution's record goes last: it is what the index finds, so a batch cut short
        // (a timeout, a throttled delete) leaves it for the retry to find the rest through.
        const record = { pk: String(meta.pk), sk: String(meta.sk) };
        let erased = 0;
        let from: Record<string, unknown> | undefined;
        do {
          const out = await this.partition(db, record.pk, from, new Set([record.sk]));
          erased += out.erased;
          from = out.last;
        } while (from);
        await this.deleteAll(db, [record]);
        return erased + 1;
      }),
    );
    const erased = counts.reduce((a, b) => a + b, 0);
    return { erased, ...(page.LastEvaluatedKey ? { last: page.LastEvaluatedKey } : {}) };
  }

  /** Counters of the slots that may not have expired yet (two windows and some, as the TTL says). */
  private async rateCounters(
    db: DynamoDBDocumentClient,
    tenantId: string,
  ): Promise<{ erased: number; last?: Record<string, unknown> }> {
    const current = Math.floor(this.now().getTime() / this.rate.slotMs);
    const span = Math.ceil((this.rate.windowSeconds * 3000) / this.rate.slotMs) + 2;
    let erased = 0;
    for (let slot = current - span; slot <= current + 1; slot++) {
      erased += (await this.partition(db, keys.ratePartition(tenantId, slot), undefined)).erased;
    }
    return { erased };
  }

  /** Deletes `items` in BatchWriteItem requests of 25, sent side by side. */
  private async deleteAll(db: DynamoDBDocumentClient, items: readonly Key[]): Promise<void> {
    const chunks: Key[][] = [];
    for (let i = 0; i < items.length; i += 25) chunks.push(items.slice(i, i + 25));
    await Promise.all(chunks.map((chunk) => this.deleteChunk(db, chunk)));
  }

  private async deleteChunk(db: DynamoDBDocumentClient, chunk: readonly Key[]): Promise<void> {
    let pending: Record<string, unknown>[] = chunk.map((key) => ({
      DeleteRequest: { Key: { pk: key.pk, sk: key.sk } },
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('DynamoDB left deletes unprocessed; the job retries this batch');
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [this.table.name]: pending } }));
      pending = (out.UnprocessedItems?.[this.table.name] ?? []) as Record<string, unknown>[];
      if (pending.length > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
    }
  }
}

/** The last phase: the tenant record itself (the tombstone stays). */
export function tenantRecordEraser(table: Table): TenantEraser {
  return {
    name: 'tenant',
    erase: async (tenantId) => {
      const db = await table.clients.forTenant(tenantId);
      const out = await db.send(
        new BatchWriteCommand({
          RequestItems: { [table.name]: [{ DeleteRequest: { Key: keys.tenant(tenantId) } }] },
        }),
      );
      if ((out.UnprocessedItems?.[table.name] ?? []).length > 0) return { erased: 0, cursor: 'retry' };
      return { erased: 1 };
    },
  };
}

/** Names of the tenant's vault entries: its secrets, then its webhooks' signing secrets. */
export function secretNames(table: Table) {
  return async (tenantId: string, cursor?: string): Promise<{ names: string[]; cursor?: string }> => {
    const state: TableCursor = cursor ? (JSON.parse(cursor) as TableCursor) : { f: 0 };
    const families = [keys.prefix.secret, keys.prefix.webhook];
    const prefix = families[state.f];
    if (!prefix) return { names: [] };
    const db = await table.clients.forTenant(tenantId);
    const page = await db.send(
      new QueryCommand({
        TableName: table.name,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':p': prefix },
        ProjectionExpression: 'sk',
        Limit: 50,
        ...(state.k ? { ExclusiveStartKey: state.k } : {}),
      }),
    );
    const names = (page.Items ?? []).map((i) => {
      const id = String(i.sk).slice(prefix.length);
      // Webhook signing secrets are stored as `webhooks/<hookId>` (core/webhooks/webhooks.ts).
      return prefix === keys.prefix.webhook ? `webhooks/${id}` : id;
    });
    const next: TableCursor | undefined = page.LastEvaluatedKey
      ? { f: state.f, k: page.LastEvaluatedKey }
      : state.f + 1 < families.length
        ? { f: state.f + 1 }
        : undefined;
    return { names, ...(next ? { cursor: JSON.stringify(next) } : {}) };
  };
}

/** Export jobs as `EXPORT#<id>` items of the tenant. */
export class DynamoExportStore implements ExportStore {
  constructor(private readonly table: Table) {}

  async create(job: ExportJob, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...keys.exportJob(job.tenantId, job.exportId), type: 'export', ...job },
          'attribute_not_exists(pk)',
        ),
      ],
      () => new ConflictError('This export already exists.'),
    );
  }

  async get(tenantId: string, exportId: string): Promise<ExportJob | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, keys.exportJob(tenantId, exportId));
    return item ? strip<ExportJob>(item) : undefined;
  }

  async save(job: ExportJob): Promise<void> {
    const db = await this.table.clients.forTenant(job.tenantId);
    await db.send(
      new PutCommand({
        TableName: this.table.name,
        Item: { ...keys.exportJob(job.tenantId, job.exportId), type: 'export', ...job },
      }),
    );
  }
}

/**
 * What an export holds, read partition by partition: definitions and their versions, executions
 * with their steps, usage counters and audit records. Secret values never are in the table (the
 * vault holds them), and webhook, API key and user items are not exported.
 */
export class DynamoExportSource implements ExportSource {
  constructor(private readonly table: Table) {}

  async *lines(tenantId: string): AsyncIterable<ExportLine> {
    const pk = tenantPk(tenantId);
    const kinds: [string, string][] = [
      ['definition', keys.prefix.head.agent],
      ['definition', keys.prefix.head.tool],
      ['definition', keys.prefix.head.workflow],
      ['version', 'AGENTVER#'],
      ['version', 'TOOLVER#'],
      ['version', 'WFVER#'],
      ['usage', 'USAGE#'],
    ];
    for (const [type, prefix] of kinds) {
      for (const item of await this.table.queryAll(tenantId, pk, prefix)) yield { ...strip(item), type };
    }
    const db = await this.table.clients.forTenant(tenantId);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await db.send(
        new QueryCommand({
          TableName: this.table.name,
          IndexName: INDEX.indexName,
          KeyConditionExpression: '#g = :g',
          ExpressionAttributeNames: { '#g': INDEX.partitionKey },
          ExpressionAttributeValues: { ':g': keys.executionsIndexPartition(tenantId) },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const meta of page.Items ?? []) {
        const {
          reservedMicros: _r,
          reserveBaseMicros: _b,
          givenBackMicros: _g,
          reservationSettled: _s,
          pendingApprovalId: _p,
          ...execution
        } = strip<Record<string, unknown>>(meta);
        yield { ...execution, type: 'execution' };
        for (const step of await this.table.queryAll(tenantId, String(meta.pk), 'STEP#')) {
          const { type: _t, stepType, ...rest } = step;
          yield {
            ...strip<Record<string, unknown>>(rest),
            stepType,
            executionId: execution.executionId,
            type: 'step',
          };
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
    for (const item of await this.table.queryAll(
      tenantId,
      keys.auditPartition(tenantId),
      keys.prefix.auditRecord,
    )) {
      const { expiresAt: _ttl, ...record } = strip<Record<string, unknown>>(item);
      yield { ...record, type: 'audit' };
    }
  }
}

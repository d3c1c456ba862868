import { gunzipSync, gzipSync } from 'node:zlib';
import type { AuditContext } from '#core/audit/audit.ts';
import { ConflictError, NotFoundError } from '#core/errors.ts';
import type { Page, PageRequest } from '#core/tenancy/model.ts';
import type { DefinitionKind, Head, Version } from '#core/versioning/model.ts';
import type { DefinitionStore } from '#core/versioning/ports.ts';
import * as keys from './item-keys.ts';
import { headKey, tenantPk, versionKey } from './keys.ts';
import type { Table } from './table.ts';
import { strip, type TableBase } from './table-base.ts';

// Compiled ASL is bulky JSON: stored gzipped so a large workflow's version stays far below 400 KB.
function packVersion<D>(version: Version<D>): Record<string, unknown> {
  const { asl, ...rest } = version;
  return { ...rest, ...(asl ? { aslGz: gzipSync(asl) } : {}) };
}

function unpackVersion<D>(item: Record<string, unknown>): Version<D> {
  const { aslGz, ...rest } = strip<Record<string, unknown>>(item);
  return {
    ...(rest as unknown as Version<D>),
    ...(aslGz instanceof Uint8Array ? { asl: gunzipSync(aslGz).toString('utf8') } : {}),
  };
}

/**
 * One version of a definition ({@link DefinitionStore} getVersion) with nothing else of the store:
 * what the step runner reads (functions/adapters/wiring/step-runner.ts).
 */
export async function readVersion<D>(
  table: TableBase,
  tenantId: string,
  kind: DefinitionKind,
  id: string,
  version: number,
): Promise<Version<D> | undefined> {
  const item = await table.get<Record<string, unknown>>(tenantId, versionKey(tenantId, kind, id, version));
  return item ? unpackVersion<D>(item) : undefined;
}

/** DynamoDB implementation of {@link DefinitionStore}. */
export class DynamoDefinitionStore implements DefinitionStore {
  constructor(private readonly table: Table) {}

  async create<D>(tenantId: string, head: Head<D>, version: Version<D>, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...headKey(tenantId, head.kind, head.id), type: head.kind, ...head },
          'attribute_not_exists(pk)',
        ),
        this.table.put(
          {
            ...versionKey(tenantId, head.kind, head.id, version.version),
            type: `${head.kind}Version`,
            ...packVersion(version),
          },
          'attribute_not_exists(pk)',
        ),
      ],
      () => new ConflictError(`This ${head.kind} already exists.`),
    );
  }

  async getHead<D>(tenantId: string, kind: DefinitionKind, id: string): Promise<Head<D> | undefined> {
    const item = await this.table.get<Record<string, unknown>>(tenantId, headKey(tenantId, kind, id));
    return item ? strip<Head<D>>(item) : undefined;
  }

  listHeads<D>(tenantId: string, kind: DefinitionKind, page: PageRequest): Promise<Page<Head<D>>> {
    return this.table.page(
      tenantId,
      `${kind}s`,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':p': keys.prefix.head[kind] },
      },
      page,
      (i) => strip<Head<D>>(i),
    );
  }

  async getVersion<D>(
    tenantId: string,
    kind: DefinitionKind,
    id: string,
    version: number,
  ): Promise<Version<D> | undefined> {
    return readVersion<D>(this.table, tenantId, kind, id, version);
  }

  listVersions<D>(
    tenantId: string,
    kind: DefinitionKind,
    id: string,
    page: PageRequest,
  ): Promise<Page<Version<D>>> {
    return this.table.page(
      tenantId,
      `${kind}:${id}:versions`,
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': tenantPk(tenantId), ':p': keys.prefix.versionsOf(kind, id) },
        ScanIndexForward: false,
      },
      page,
      (i) => unpackVersion<D>(i),
    );
  }

  async saveHead<D>(
    tenantId: string,
    next: Head<D>,
    previous: Head<D>,
    version: Version<D> | undefined,
    audit: AuditContext,
  ): Promise<void> {
    await this.table.commit(
      audit,
      [
        this.table.put(
          { ...headKey(tenantId, next.kind, next.id), type: next.kind, ...next },
          '#v = :v AND #u = :u',
          { '#v': 'latestVersion', '#u': 'updatedAt' },
          { ':v': previous.latestVersion, ':u': previous.updatedAt },
        ),
        ...(version
          ? [
              this.table.put(
                {
                  ...versionKey(tenantId, next.kind, next.id, version.version),
                  type: `${next.kind}Version`,
                  ...packVersion(version),
                },
                'attribute_not_exists(pk)',
              ),
            ]
          : []),
      ],
      () =>
        new ConflictError(`The ${next.kind} was changed by someone else meanwhile; read it again and retry.`),
    );
  }

  async deleteHead<D>(tenantId: string, head: Head<D>, audit: AuditContext): Promise<void> {
    await this.table.commit(
      audit,
      [this.table.delete(headKey(tenantId, head.kind, head.id), 'attribute_exists(pk)')],
      () => new NotFoundError(`No ${head.kind} ${head.id}.`),
    );
  }
}

import type { AuditContext } from '../audit/audit.ts';
import { NotFoundError } from '../errors.ts';
import { newId } from '../ids.ts';
import { audited, type Caller } from './context.ts';
import type { JobRunner } from './offboarding.ts';

/** A tenant's data export. */
export interface ExportJob {
  readonly exportId: string;
  readonly tenantId: string;
  readonly status: 'running' | 'completed';
  readonly requestedBy: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completedAt?: string;
  /** Lines written, by `type`. */
  readonly counts?: Readonly<Record<string, number>>;
  readonly bytes?: number;
}

/** One JSONL line: a `type` and the item as the API shows it (never a secret value). */
export type ExportLine = { readonly type: string } & Record<string, unknown>;

/** Where export jobs are kept. */
export interface ExportStore {
  create(job: ExportJob, audit: AuditContext): Promise<void>;
  get(tenantId: string, exportId: string): Promise<ExportJob | undefined>;
  save(job: ExportJob): Promise<void>;
}

/** What goes into an export, read from the tenant's partitions. */
export interface ExportSource {
  lines(tenantId: string): AsyncIterable<ExportLine>;
}

/** The export file in the artifacts bucket, under the tenant's own prefix. */
export interface ExportFiles {
  /** Writes the chunks as they come (never the whole file in memory); returns the bytes written. */
  write(
    tenantId: string,
    relativeKey: string,
    chunks: AsyncIterable<string>,
    contentType: string,
  ): Promise<number>;
  presign(tenantId: string, relativeKey: string, seconds: number): Promise<string>;
}

/** What exports need. */
export interface ExportDeps {
  readonly exports: ExportStore;
  readonly source: ExportSource;
  readonly files: ExportFiles;
  readonly runner: JobRunner;
  readonly now: () => Date;
}

/** How long a download link lives. */
export const EXPORT_LINK_SECONDS = 900;

/** The file of an export, relative to the tenant's prefix. */
export const exportKey = (exportId: string): string => `exports/${exportId}/export.jsonl`;

/** `POST /tenant/exports`: records the export and starts its job. */
export async function requestExport(deps: ExportDeps, caller: Caller): Promise<ExportJob> {
  const tenantId = caller.principal.tenantId;
  const job: ExportJob = {
    exportId: newId('o'),
    tenantId,
    status: 'running',
    requestedBy: caller.principal.principalId,
    createdAt: caller.meta.now,
    updatedAt: caller.meta.now,
  };
  await deps.exports.create(
    job,
    audited(caller, { action: 'tenant.export', resourceType: 'export', resourceId: job.exportId }),
  );
  await deps.runner.start({
    kind: 'export',
    runName: job.exportId,
    input: { tenantId, jobId: job.exportId },
  });
  return job;
}

/** `GET /tenant/exports/{id}`: the job, and once it completed a link valid for 15 minutes. */
export async function getExport(
  deps: Pick<ExportDeps, 'exports' | 'files'>,
  tenantId: string,
  exportId: string,
): Promise<ExportJob & { url?: string; urlExpiresAt?: string }> {
  const job = await deps.exports.get(tenantId, exportId);
  if (!job) throw new NotFoundError(`No export ${exportId}.`);
  if (job.status !== 'completed') return job;
  const url = await deps.files.presign(tenantId, exportKey(exportId), EXPORT_LINK_SECONDS);
  return { ...job, url, urlExpiresAt: new Date(Date.now() + EXPORT_LINK_SECONDS * 1000).toISOString() };
}

/**
 * The export job's one task: writes every line as JSONL to `tenants/<t>/exports/<id>/export.jsonl`.
 * Running it twice writes the same file again (idempotent).
 */
export async function runExport(
  deps: ExportDeps,
  tenantId: string,
  exportId: string,
): Promise<{ done: boolean }> {
  const job = await deps.exports.get(tenantId, exportId);
  if (!job) throw new NotFoundError(`No export ${exportId}.`);
  if (job.status === 'completed') return { done: true };
  const counts: Record<string, number> = {};
  // Streamed from the tenant's partitions to the file, so a large tenant never sits in memory.
  async function* jsonl(): AsyncIterable<string> {
    for await (const line of deps.source.lines(tenantId)) {
      counts[line.type] = (counts[line.type] ?? 0) + 1;
      yield `${JSON.stringify(line)}\n`;
    }
  }
  const bytes = await deps.files.write(tenantId, exportKey(exportId), jsonl(), 'application/x-ndjson');
  const at = deps.now().toISOString();
  await deps.exports.save({
    ...job,
    status: 'completed',
    counts,
    bytes,
    completedAt: at,
    updatedAt: at,
  });
  return { done: true };
}

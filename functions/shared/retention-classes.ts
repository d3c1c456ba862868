/**
 * Retention classes of execution artifacts, shared by the runtime (which tags each ended execution's
 * artifacts) and the CDK (one lifecycle rule per class on the artifacts bucket). S3 lifecycle rules
 * are fixed at deploy time, a tenant's retention is not: its days are rounded up to the next class,
 * so an artifact never goes before its execution record does.
 */

/** The object tag the bucket's lifecycle rules expire by. */
export const RETENTION_TAG = 'meridian-retention-days';

/** Retention classes, in days. */
export const RETENTION_CLASSES: readonly number[] = [1, 7, 14, 30, 60, 90, 180, 365, 730, 1825, 3650];

/** The class for `days`: the smallest class that is at least `days`. */
export function retentionClass(days: number): number {
  return RETENTION_CLASSES.find((c) => c >= days) ?? (RETENTION_CLASSES.at(-1) as number);
}

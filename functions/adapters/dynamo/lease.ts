import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { TransientError } from '#core/errors.ts';
import { logger } from '#shared/observability.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import type { Key } from './keys.ts';
import type { Table } from './table.ts';

/**
 * How long a holder keeps the lease unless it releases it first. Longer than the API function may
 * run at all (lib/config.ts caps its timeout at 29 s), so a live holder never loses the lease; only
 * a holder that died is taken over, this long after it took the lease.
 */
export const LEASE_MS = 30_000;

/** How long `run` waits for a held lease before it answers 503 (the work takes a fraction of a second). */
const LEASE_WAIT_MS = 5_000;

/** Ceiling of the jittered pause between two attempts to take a held lease. */
const MAX_BACKOFF_MS = 200;

/** Timing of a {@link DynamoLease}; tests inject the clock and the pause. */
export interface LeaseOptions {
  readonly leaseMs?: number;
  readonly waitMs?: number;
  /** Epoch milliseconds. */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A mutual-exclusion lease on one platform-level item of the single table, for a read-modify-write
 * on a resource that has no conditional update of its own (the shared Cognito app client). Taken
 * with a conditional put (absent, or lapsed), held under a random owner token, released with a
 * delete conditioned on that token, so a holder whose lease lapsed never deletes its successor's.
 * Reached with the function's own role (the item belongs to no tenant).
 */
export class DynamoLease {
  private readonly leaseMs: number;
  private readonly waitMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly table: Table,
    private readonly key: Key,
    options: LeaseOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? LEASE_MS;
    this.waitMs = options.waitMs ?? LEASE_WAIT_MS;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? pause;
  }

  /**
   * Runs `work` holding the lease: no other `run` on the same item, in any container, overlaps it.
   * Throws {@link TransientError} (503, Retry-After) when the lease stays held past the wait.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    const owner = await this.acquire();
    try {
      return await work();
    } finally {
      await this.release(owner);
    }
  }

  private async acquire(): Promise<string> {
    const owner = randomUUID();
    const deadline = this.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      if (await this.tryTake(owner)) return owner;
      if (this.now() >= deadline) {
        throw new TransientError('Another change to the same shared resource is in progress; retry shortly.');
      }
      await this.sleep(Math.random() * Math.min(MAX_BACKOFF_MS, 10 * 2 ** attempt));
    }
  }

  private async tryTake(owner: string): Promise<boolean> {
    const now = this.now();
    const until = now + this.leaseMs;
    try {
      await this.table.clients.platform.send(
        new PutCommand({
          TableName: this.table.name,
          Item: {
            ...this.key,
            type: 'lease',
            owner,
            leaseUntil: until,
            // The table's TTL (epoch seconds) removes a lease its holder never released.
            [TABLE_SCHEMA.ttlAttribute]: Math.ceil(until / 1000),
          },
          // Its own owner too: an SDK retry of a put whose answer was lost must not lock its holder out.
          ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':now': now, ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Deletes the lease only if it is still this owner's (a lapsed one may be another's by now). A
   * release that fails does not fail the work, which is done: the lease lapses on its own.
   */
  private async release(owner: string): Promise<void> {
    try {
      await this.table.clients.platform.send(
        new DeleteCommand({
          TableName: this.table.name,
          Key: this.key,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      logger.warn('Releasing a lease failed; it lapses by itself', { pk: this.key.pk, error });
    }
  }
}

import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { Key } from '#adapters/dynamo/keys.ts';
import { DynamoLease } from '#adapters/dynamo/lease.ts';
import { Table } from '#adapters/dynamo/table.ts';
import { TransientError } from '#core/errors.ts';
import { TABLE_SCHEMA } from '#shared/table-schema.ts';
import { LOCAL_NAMES } from '../../bin/local/env.ts';
import { localDocumentClient } from '../helpers/local-dynamo.ts';

/**
 * The lease that serializes the shared Cognito app client's read-modify-write
 * (functions/adapters/dynamo/lease.ts), on DynamoDB Local. Each test takes its own item, so the
 * files running in parallel against the platform's table never share one.
 */
const db = localDocumentClient();
const TableName = LOCAL_NAMES.tableName;
const table = new Table(TableName, { platform: db, forTenant: async () => db });

const leaseKey = (): Key => ({ pk: `LEASE#TEST-${randomUUID()}`, sk: 'LEASE' });
const read = async (key: Key) =>
  (await db.send(new GetCommand({ TableName, Key: key, ConsistentRead: true }))).Item;

/** A promise and the function that settles it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

/** A run that holds the lease until `release` is called; `held` settles once its work has started. */
function holdLease(lease: DynamoLease) {
  const entered = gate();
  const release = gate();
  const done = lease.run(async () => {
    entered.open();
    await release.opened;
    return 'held';
  });
  return { held: entered.opened, release: release.open, done };
}

describe('DynamoLease', () => {
  it('never lets two concurrent runs overlap', async () => {
    // Prepare: six contenders at once; a long wait so a slow machine cannot turn this into a timeout
    const key = leaseKey();
    let pauses = 0;
    const lease = new DynamoLease(table, key, {
      waitMs: 60_000,
      sleep: (ms) => {
        pauses++;
        return new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    const log: string[] = [];

    // Act
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        lease.run(async () => {
          log.push(`enter ${i}`);
          // Yields to the other contenders: without the lease they would enter here.
          await new Promise((resolve) => setTimeout(resolve, 20));
          log.push(`exit ${i}`);
        }),
      ),
    );

    // Assert: each enter is followed by its own exit
    expect(log).toHaveLength(12);
    for (let k = 0; k < log.length; k += 2) {
      expect(log[k + 1]).toBe(log[k]?.replace('enter', 'exit'));
    }
    expect(pauses).toBeGreaterThan(0);
    expect(await read(key)).toBeUndefined();
  });

  it("takes over a lapsed lease, and the lapsed holder's release leaves its successor's lease", async () => {
    // Prepare: a holder whose lease lapses after 15 s, and a caller whose clock is a minute ahead
    const key = leaseKey();
    const first = holdLease(new DynamoLease(table, key, { leaseMs: 15_000 }));
    await first.held;
    const later = () => Date.now() + 60_000;
    const successor = new DynamoLease(table, key, { now: later, waitMs: 0 });

    // Act
    const during = await successor.run(async () => {
      first.release();
      // The first holder's work ends and it releases: a delete conditioned on its own token.
      expect(await first.done).toBe('held');
      return read(key);
    });

    // Assert
    expect(during).toBeDefined();
    expect(during?.leaseUntil).toBeGreaterThan(later());
    expect(during?.[TABLE_SCHEMA.ttlAttribute]).toBe(Math.ceil(Number(during?.leaseUntil) / 1000));
    expect(await read(key)).toBeUndefined();
  });

  it('gives a TransientError (503) when the lease stays held past the wait, and leaves it held', async () => {
    // Prepare: the waiter's clock moves only by the pauses it takes
    const key = leaseKey();
    const holder = holdLease(new DynamoLease(table, key));
    await holder.held;
    const start = Date.now();
    let waited = 0;
    const pauses: number[] = [];
    const waiter = new DynamoLease(table, key, {
      waitMs: 1_000,
      now: () => start + waited,
      sleep: async (ms) => {
        pauses.push(ms);
        waited += ms;
      },
    });
    let ran = false;

    // Act
    const outcome = waiter.run(async () => {
      ran = true;
    });

    // Assert
    await expect(outcome).rejects.toBeInstanceOf(TransientError);
    expect(ran).toBe(false);
    expect(pauses.length).toBeGreaterThan(1);
    expect(waited).toBeGreaterThanOrEqual(1_000);
    expect(await read(key)).toBeDefined();
    holder.release();
    await holder.done;
    expect(await read(key)).toBeUndefined();
  });

  it('lets its owner take it again (an SDK retry of a put whose answer was lost), and nobody else', async () => {
    const key = leaseKey();
    const lease = new DynamoLease(table, key);
    const tryTake = (owner: string) =>
      (lease as unknown as { tryTake(owner: string): Promise<boolean> }).tryTake(owner);
    expect(await tryTake('o1')).toBe(true);
    expect(await tryTake('o1')).toBe(true);
    expect(await tryTake('o2')).toBe(false);
    expect((await read(key))?.owner).toBe('o1');
  });

  it('releases the lease when the work fails, and passes the failure on', async () => {
    // Prepare
    const key = leaseKey();
    const lease = new DynamoLease(table, key, { waitMs: 0 });

    // Act
    const failed = lease.run(async () => {
      throw new Error('Cognito said no');
    });

    // Assert: the next run takes the lease at its first attempt
    await expect(failed).rejects.toThrow('Cognito said no');
    await expect(lease.run(async () => 'next')).resolves.toBe('next');
  });
});

import type { FireEvent, LocalScheduler } from '#adapters/local-scheduler.ts';
import { asFunction } from './call-log.ts';
import { LocalPlatformError } from './errors.ts';

/** The fire function the local scheduler delivers to, as EventBridge Scheduler invokes it on AWS. */
export const SCHEDULE_FIRE_MODULE = new URL('../../functions/handlers/schedule-fire.ts', import.meta.url);

/** Options of {@link startLocalScheduler}. */
export interface LocalSchedulerStart {
  readonly tableName: string;
  /** The seconds a minute fires at (`MERIDIAN_LOCAL_SCHEDULE_SECONDS`, `0` or `*\/n`): tests fire every few seconds. */
  readonly seconds?: string | undefined;
  /** Deliveries per firing (`MERIDIAN_LOCAL_SCHEDULE_DELIVERIES`, default 1): tests repeat them. */
  readonly deliveries?: number | undefined;
  readonly log?: (line: string) => void;
}

/**
 * Starts the in-process scheduler behind the same fire function AWS runs, registers it
 * with the handlers' container (so the API creates and removes its jobs as schedules change), and
 * loads every schedule of the table. Call after the handlers were loaded.
 */
export async function startLocalScheduler(options: LocalSchedulerStart): Promise<LocalScheduler> {
  const seconds = options.seconds ?? '0';
  // Only the seconds a minute fires at (functions/core/schedules/cron.ts takes these): a whole pattern
  // here would let the environment change what tenants chose.
  if (!/^(0|\*|\*\/[1-9]\d?)$/.test(seconds))
    throw new LocalPlatformError(`MERIDIAN_LOCAL_SCHEDULE_SECONDS is not 0, * or */n: ${seconds}`);
  const [{ LocalScheduler }, { useLocalScheduleTrigger }, fireModule] = await Promise.all([
    import(new URL('../../functions/adapters/local-scheduler.ts', import.meta.url).href) as Promise<
      typeof import('../../functions/adapters/local-scheduler.ts')
    >,
    import(new URL('../../functions/adapters/wiring/local.ts', import.meta.url).href) as Promise<
      typeof import('../../functions/adapters/wiring/local.ts')
    >,
    import(SCHEDULE_FIRE_MODULE.href) as Promise<typeof import('../../functions/handlers/schedule-fire.ts')>,
  ]);
  const scheduler = new LocalScheduler({
    seconds,
    deliveries: options.deliveries ?? 1,
    fire: asFunction('scheduleFire', (event: FireEvent) => fireModule.handler(event)),
    onError: (error, event) =>
      options.log?.(
        `schedule ${event.scheduleId} at ${event.scheduledTime} failed: ${
          error instanceof Error ? error.message : String(error)
        }`,
      ),
  });
  useLocalScheduleTrigger(scheduler);
  const loaded = await loadSchedules(scheduler, options.tableName);
  if (loaded > 0) options.log?.(`  ${loaded} schedule(s) loaded`);
  return scheduler;
}

/** Registers every schedule in the table (a platform-start scan, never a request path). */
async function loadSchedules(scheduler: LocalScheduler, tableName: string): Promise<number> {
  const { dynamoDocumentClient } = (await import(
    new URL('../../functions/adapters/aws-clients.ts', import.meta.url).href
  )) as typeof import('../../functions/adapters/aws-clients.ts');
  const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
  const db = dynamoDocumentClient();
  let loaded = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#t = :schedule',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':schedule': 'schedule' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const tenantId = String(item.pk).replace(/^TENANT#/, '');
      const { pk: _pk, sk: _sk, type: _type, ...schedule } = item;
      await scheduler.register(tenantId, schedule as Parameters<LocalScheduler['register']>[1]);
      if (schedule.enabled) loaded++;
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return loaded;
}

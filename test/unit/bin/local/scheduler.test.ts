import { describe, expect, it } from 'vitest';
import { startLocalScheduler } from '../../../../bin/local/scheduler.ts';

describe('the local scheduler’s seconds (MERIDIAN_LOCAL_SCHEDULE_SECONDS)', () => {
  it.each(['15', '0,30', '*/0', '*/100', 'x'])(
    'refuses %s at start, naming what it takes',
    async (seconds) => {
      // Act / Assess: before any schedule is armed, where nextFireTimes would refuse it later.
      await expect(startLocalScheduler({ tableName: 'unused', seconds })).rejects.toThrow(
        `MERIDIAN_LOCAL_SCHEDULE_SECONDS is not 0, * or */n: ${seconds}`,
      );
    },
  );
});
